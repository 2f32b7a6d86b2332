/** The four IAM mapping examples of seed 001, as documented (YAML, indented) and as printed in the seed text (indentation lost). */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const SEEDS = join(import.meta.dirname, '../../../shared/seeds');

export const SEED_EXAMPLES = {
  awsVm: `cloud_deployment_id: cldrsrc_XXXX
cloud_provider: AWS
compute_stack: VM
dataplane_iam_mapping:
  rules:
    - selector: workload-type in (workspace),user=user1@example.com
      value: role_name1
    - selector: workload-type in (job, service),user=user2@example.com
      value: role_name2
  fallback_rule: CLOUD_DEFAULT
`,
  gcpVm: `cloud_deployment_id: cldrsrcgcp_i93p4pp6k8fe1hca7kggbjvdyu
cloud_provider: GCP
compute_stack: VM
dataplane_iam_mapping:
  rules:
    - selector: workload-type in (workspace),user=user1@example.com
      value: sa1@xxx.iam.gserviceaccount.com
    - selector: workload-type in (job, service),user=user2@example.com
      value: sa2@xxx.iam.gserviceaccount.com
  fallback_rule: CLOUD_DEFAULT
`,
  eks: `cloud_deployment_id: cldrsrc_XXXX
cloud_provider: AWS
compute_stack: K8S
dataplane_iam_mapping:
  rules:
    - selector: workload-type in (workspace),user=user1@example.com
      value: kubernetes-service-account-name1
    - selector: workload-type in (job, service),user=user2@example.com
      value: kubernetes-service-account-name2
  fallback_rule: CLOUD_DEFAULT
`,
  gke: `cloud_deployment_id: cldrsrc_XXXX
cloud_provider: GCP
compute_stack: K8S
dataplane_iam_mapping:
  rules:
    - selector: workload-type in (workspace),user=user1@example.com
      value: kubernetes-service-account-name1
    - selector: workload-type in (job, service),user=user2@example.com
      value: kubernetes-service-account-name2
  fallback_rule: CLOUD_DEFAULT
`,
} as const;

export type SeedName = keyof typeof SEED_EXAMPLES;

/** The examples exactly as the seed-001 text prints them (no indentation), when shared/ is present. */
export function seedTextExamples(): string[] {
  let file: string | undefined;
  try {
    file = readdirSync(SEEDS).find((f) => f.startsWith('001_'));
  } catch {
    return [];
  }
  if (!file) return [];
  const text = readFileSync(join(SEEDS, file), 'utf8');
  const out: string[] = [];
  const re = /^cloud_deployment_id:[\s\S]*?^fallback_rule: \w+/gm;
  for (const m of text.matchAll(re)) out.push(m[0]);
  return out;
}
