'use strict';
/**
 * `osls invoke local` loads handlers with require() and, failing that, `<handler>.cjs` — it never
 * tries the `.mjs` files serverless-esbuild emits for ESM bundles. Before the invocation (after
 * serverless-esbuild has built and pointed the service at its build folder) this writes a
 * CommonJS shim `<handler>.cjs` that imports the bundle and forwards the call. Deployments are
 * unaffected: the shim exists only in the local build folder during `invoke local`.
 */
const fs = require('node:fs');
const path = require('node:path');

class InvokeLocalEsm {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.options = options;
    this.hooks = { 'before:invoke:local:invoke': () => this.writeShim() };
  }

  writeShim() {
    const fn = this.serverless.service.getFunction(this.options.function);
    const handler = fn.handler;
    const dot = handler.lastIndexOf('.');
    const modulePath = handler.slice(0, dot);
    const exportName = handler.slice(dot + 1);
    const base = path.join(this.serverless.serviceDir, modulePath);
    if (!fs.existsSync(`${base}.mjs`)) return;
    const target = `./${path.basename(modulePath)}.mjs`;
    fs.writeFileSync(
      `${base}.cjs`,
      `'use strict';\nexports[${JSON.stringify(exportName)}] = async (event, context) => (await import(${JSON.stringify(target)}))[${JSON.stringify(exportName)}](event, context);\n`,
    );
  }
}

module.exports = InvokeLocalEsm;
