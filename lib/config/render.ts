/**
 * A stored mapping config (plain JSON data) → YAML text, as `GET …/iam-mapping` with
 * `Accept: application/yaml` returns it. js-yaml's emitter writes plain data directly, several
 * times faster than building a `yaml` Document first (a 25,000-rule config: ~0.1 s instead of
 * ~0.3–0.45 s on these machines), and it quotes every string another YAML reader could take for
 * something else (`'yes'`, `'on'`, `'0o17'`, `'2001-12-14'`), so what it writes reads back the same
 * through this service's parser (core schema) and through YAML 1.1 readers. Checked by a
 * property test against `parseConfigBody`.
 */
import { dump } from 'js-yaml';

export function renderYaml(value: unknown): string {
  // lineWidth -1: never fold a long selector; noRefs: JSON data has no shared nodes to anchor.
  return dump(value, { lineWidth: -1, noRefs: true });
}
