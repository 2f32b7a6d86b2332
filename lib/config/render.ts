/**
 * A stored mapping config (plain JSON data) → YAML text, as `GET …/iam-mapping` with
 * `Accept: application/yaml` returns it. js-yaml's emitter writes plain data directly, several
 * times faster than building a `yaml` Document first (a 25,000-rule config: ~0.1 s instead of
 * ~0.3–0.45 s on these machines), and it quotes every string another YAML reader could take for
 * something else (`'yes'`, `'on'`, `'0o17'`, `'2001-12-14'`), so what it writes reads back the same
 * through this service's parser (core schema) and through YAML 1.1 readers. Checked by a
 * property test against `parseConfigBody`.
 */
import { randomUUID } from 'node:crypto';
import { dump } from 'js-yaml';
import { nextTurn } from '../steps.js';

// lineWidth -1: never fold a long selector; noRefs: JSON data has no shared nodes to anchor.
const OPTIONS = { lineWidth: -1, noRefs: true } as const;

export function renderYaml(value: unknown): string {
  return dump(value, OPTIONS);
}

/** Rules rendered between two turns of the event loop by renderYamlSliced. */
const RULES_PER_SLICE = 1000;

/**
 * renderYaml's very text, for a server: the rules of `dataplane_iam_mapping` are written a
 * thousand at a time with a turn of the event loop between (25,000 rules in one piece: 75–140 ms).
 */
export async function renderYamlSliced(document: Record<string, unknown>): Promise<string> {
  const mapping = document.dataplane_iam_mapping as Record<string, unknown> | undefined;
  const rules = mapping?.rules;
  if (!Array.isArray(rules) || rules.length <= RULES_PER_SLICE) return renderYaml(document);
  // Everything but the rules, with a one-line stand-in where they go (a random word js-yaml writes bare).
  const stand = `rules_${randomUUID().replace(/-/g, '')}`;
  const outer = renderYaml({ ...document, dataplane_iam_mapping: { ...mapping, rules: stand } });
  const line = `\n  rules: ${stand}\n`;
  const at = outer.indexOf(line);
  if (at < 0 || outer.indexOf(line, at + 1) >= 0) return renderYaml(document); // not where expected: in one piece
  const parts = [outer.slice(0, at), '\n  rules:\n'];
  for (let i = 0; i < rules.length; i += RULES_PER_SLICE) {
    if (i > 0) await nextTurn();
    // A sequence at the top level, shifted under `  rules:` (4 spaces: js-yaml's nested sequence indent).
    parts.push(renderYaml(rules.slice(i, i + RULES_PER_SLICE)).replace(/^(?=.)/gm, '    '));
  }
  parts.push(outer.slice(at + line.length));
  return parts.join('');
}
