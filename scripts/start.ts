/** `npm start`: the whole system locally on http://127.0.0.1:${PORT:-3000}, data under ${DATA_DIR:-.data}. */
import { resolve } from 'node:path';
import { startLocalServer } from '../local/server.js';

const port = Number(process.env.PORT ?? 3000);
const dataDir = resolve(process.env.DATA_DIR ?? '.data');
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
// Node 20 is what these machines run (and Lambda's nodejs20.x); the SDK's upgrade notice is known.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const dynamoPort = Number(process.env.DYNAMODB_PORT ?? port + 1);
const server = await startLocalServer({ port, dataDir, dynamoPort });
console.log(`iam-mapping: API ${server.url}/v1, DynamoDB (dynalite) ${server.dynamoEndpoint}, data in ${dataDir}`);
console.log(`iam-mapping ready on ${server.url}`);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping`);
  await server.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
