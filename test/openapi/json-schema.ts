/**
 * A small JSON Schema (2020-12) checker for the keywords z.toJSONSchema() emits, so tests can
 * check real responses against the served OpenAPI document itself. Unknown keywords are errors
 * (a schema it cannot fully check must not pass silently).
 */
type Schema = Record<string, unknown> | boolean;

const ANNOTATIONS = new Set(['description', 'title', 'default', 'examples', 'format', 'deprecated', 'readOnly', 'writeOnly', '$comment']);

export class SchemaChecker {
  constructor(private readonly root: Record<string, unknown>) {}

  /** Problems of `value` against `schema` (empty = valid). */
  check(value: unknown, schema: Schema, at = '$'): string[] {
    const out: string[] = [];
    this.walk(value, schema, at, out);
    return out;
  }

  resolve(ref: string): Schema {
    if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported: ${ref}`);
    let node: unknown = this.root;
    for (const part of ref.slice(2).split('/')) {
      node = (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    if (node === undefined) throw new Error(`unresolvable $ref ${ref}`);
    return node as Schema;
  }

  private walk(value: unknown, schema: Schema, at: string, out: string[]): void {
    if (schema === true) return;
    if (schema === false) {
      out.push(`${at}: not allowed`);
      return;
    }
    for (const [key, kw] of Object.entries(schema)) {
      switch (key) {
        case '$ref':
          this.walk(value, this.resolve(kw as string), at, out);
          break;
        case 'type': {
          const types = Array.isArray(kw) ? (kw as string[]) : [kw as string];
          if (!types.some((t) => typeOk(value, t))) out.push(`${at}: expected ${types.join('|')}, got ${kind(value)}`);
          break;
        }
        case 'enum':
          if (!(kw as unknown[]).some((v) => deepEqual(v, value))) out.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(kw)}`);
          break;
        case 'const':
          if (!deepEqual(kw, value)) out.push(`${at}: expected ${JSON.stringify(kw)}`);
          break;
        case 'anyOf':
        case 'oneOf': {
          const passing = (kw as Schema[]).filter((s) => this.check(value, s, at).length === 0).length;
          if (key === 'anyOf' ? passing === 0 : passing !== 1) out.push(`${at}: matches ${passing} of the ${key} alternatives`);
          break;
        }
        case 'allOf':
          for (const s of kw as Schema[]) this.walk(value, s, at, out);
          break;
        case 'not':
          if (this.check(value, kw as Schema, at).length === 0) out.push(`${at}: must not match`);
          break;
        case 'properties':
          if (isObject(value)) {
            for (const [p, s] of Object.entries(kw as Record<string, Schema>)) {
              if (p in value) this.walk(value[p], s, `${at}.${p}`, out);
            }
          }
          break;
        case 'required':
          if (isObject(value)) for (const p of kw as string[]) if (!(p in value)) out.push(`${at}: missing required ${p}`);
          break;
        case 'additionalProperties':
          if (isObject(value)) {
            const known = new Set(Object.keys((schema as { properties?: object }).properties ?? {}));
            for (const [p, v] of Object.entries(value)) if (!known.has(p)) this.walk(v, kw as Schema, `${at}.${p}`, out);
          }
          break;
        case 'propertyNames':
          if (isObject(value)) for (const p of Object.keys(value)) this.walk(p, kw as Schema, `${at}{${p}}`, out);
          break;
        case 'items':
          if (Array.isArray(value)) value.forEach((v, i) => this.walk(v, kw as Schema, `${at}[${i}]`, out));
          break;
        case 'minItems':
          if (Array.isArray(value) && value.length < (kw as number)) out.push(`${at}: fewer than ${String(kw)} items`);
          break;
        case 'maxItems':
          if (Array.isArray(value) && value.length > (kw as number)) out.push(`${at}: more than ${String(kw)} items`);
          break;
        case 'minLength':
          if (typeof value === 'string' && [...value].length < (kw as number)) out.push(`${at}: shorter than ${String(kw)}`);
          break;
        case 'maxLength':
          if (typeof value === 'string' && [...value].length > (kw as number)) out.push(`${at}: longer than ${String(kw)}`);
          break;
        case 'pattern':
          if (typeof value === 'string' && !new RegExp(kw as string, 'u').test(value)) out.push(`${at}: ${JSON.stringify(value)} does not match ${String(kw)}`);
          break;
        case 'minimum':
          if (typeof value === 'number' && value < (kw as number)) out.push(`${at}: below ${String(kw)}`);
          break;
        case 'maximum':
          if (typeof value === 'number' && value > (kw as number)) out.push(`${at}: above ${String(kw)}`);
          break;
        case 'exclusiveMinimum':
          if (typeof value === 'number' && value <= (kw as number)) out.push(`${at}: not above ${String(kw)}`);
          break;
        case 'exclusiveMaximum':
          if (typeof value === 'number' && value >= (kw as number)) out.push(`${at}: not below ${String(kw)}`);
          break;
        default:
          if (!ANNOTATIONS.has(key)) throw new Error(`unsupported JSON Schema keyword ${key} at ${at}`);
      }
    }
  }
}

function typeOk(value: unknown, type: string): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isObject(value);
    default:
      return typeof value === type;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
