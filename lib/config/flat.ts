/**
 * Documentation pages often lose YAML indentation when copied (seed 001 as printed is one such
 * paste). A mapping config is small and its keys are known, so an indentation-free paste of it
 * can be read back unambiguously: this re-indents it by key. Anything else is left alone and
 * reported by the YAML parser as usual.
 */
const TOP = new Set(['cloud_deployment_id', 'cloud_provider', 'compute_stack', 'dataplane_iam_mapping']);
const MAPPING = new Set(['rules', 'fallback_rule', 'default_value']);
const RULE = new Set(['selector', 'value']);

export function reindentFlatConfig(text: string): string | null {
  const lines = text.split(/\r?\n/);
  const out: string[] = [];
  let section: 'top' | 'mapping' | 'rules' = 'top';
  for (const line of lines) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) {
      out.push(line);
      continue;
    }
    if (/^\s/.test(line)) return null; // already indented: not a flat paste
    if (line.startsWith('- ')) {
      if (section !== 'rules') return null;
      const key = keyOf(line.slice(2));
      if (key === null || !RULE.has(key)) return null;
      out.push(`    ${line}`);
      continue;
    }
    const key = keyOf(line);
    if (key === null) return null;
    if (TOP.has(key)) {
      section = key === 'dataplane_iam_mapping' ? 'mapping' : 'top';
      out.push(line);
    } else if (MAPPING.has(key) && section !== 'top') {
      section = key === 'rules' ? 'rules' : 'mapping';
      out.push(`  ${line}`);
    } else if (RULE.has(key) && section === 'rules') {
      out.push(`      ${line}`);
    } else {
      return null;
    }
  }
  return out.join('\n');
}

function keyOf(line: string): string | null {
  const m = /^([A-Za-z_][\w-]*):(?:\s|$)/.exec(line);
  return m ? (m[1] as string) : null;
}
