import { expect } from 'vitest';
import { globMatch } from '../../lib/provisioning/glob.js';
import { buildPlan, type K8sIrsaItem, type PlanInput, type ProvisioningPlan, type ResolvedCluster } from '../../lib/provisioning/plan.js';
import { STS_AUDIENCE, type PolicyDocument } from '../../lib/provisioning/policies.js';
import { parseProvisioningSettings } from '../../lib/provisioning/settings.js';
import { canAssumeWithWebIdentity } from './trust-evaluator.js';

export const ACCOUNT = '111122223333';

export function cluster(name: string, region: string, id: string, account = ACCOUNT): ResolvedCluster {
  const issuerHost = `oidc.eks.${region}.amazonaws.com/id/${id}`;
  return { name, issuerHost, oidcProviderArn: `arn:aws:iam::${account}:oidc-provider/${issuerHost}` };
}

/** A typical EKS issuer (AWS documentation example id). */
export const PROD = cluster('prod', 'us-west-2', 'EXAMPLED539D4633E53DE1B71EXAMPLE');
/** The issuer id of seed 004. */
export const STAGING = cluster('staging', 'us-east-1', '66CBAF563FD1438BC98F1EF39FF8DACD');
/** Never trusted by any policy in these tests: the attacker's cluster. */
export const FOREIGN = cluster('foreign', 'eu-west-1', '0123456789ABCDEF0123456789ABCDEF');

export function planFor(
  values: string[],
  provisioning: unknown,
  options: Partial<Omit<PlanInput, 'settings' | 'values'>> & { defaults?: Parameters<typeof parseProvisioningSettings>[1] } = {},
): ProvisioningPlan {
  const settings = parseProvisioningSettings(provisioning, {
    clusterName: 'prod',
    region: 'us-west-2',
    defaultBucket: 'anyscale-default-bucket',
    ...options.defaults,
  });
  return buildPlan({
    cloudId: options.cloudId ?? 'cldrsrc_XXXX',
    configVersion: options.configVersion ?? 1,
    provider: options.provider ?? 'AWS',
    computeStack: options.computeStack ?? 'K8S',
    values,
    settings,
    clusters: options.clusters ?? [PROD],
    accountId: options.accountId ?? ACCOUNT,
    ...(options.partition ? { partition: options.partition } : {}),
  });
}

export function irsaItem(plan: ProvisioningPlan, name: string): K8sIrsaItem {
  const item = plan.items.find((i) => i.kind === 'k8s-irsa' && i.serviceAccount.name === name);
  if (!item || item.kind !== 'k8s-irsa') throw new Error(`no item for ${name}`);
  return item;
}

const ask = (policy: PolicyDocument, c: ResolvedCluster, sub: string, aud = STS_AUDIENCE) =>
  canAssumeWithWebIdentity(policy, { federatedPrincipal: c.oidcProviderArn, issuerHost: c.issuerHost, claims: { aud, sub } });

/**
 * The attack matrix of one trust policy. `intended` are the subjects (exact or explicit glob) the
 * config asked for; `trusted` the clusters. Asserts:
 * - every intended exact subject is allowed from every trusted cluster;
 * - wrong audience, another cluster's provider, a provider/issuer mismatch are denied;
 * - another namespace / another SA / look-alike subjects are denied unless an intended glob covers them.
 */
export function assertAttackMatrix(policy: PolicyDocument, intended: string[], trusted: ResolvedCluster[]): void {
  const allowedByConfig = (sub: string) => intended.some((p) => globMatch(p, sub));
  const exact = intended.filter((s) => !/[*?]/.test(s));
  const probes = new Set<string>();
  for (const s of intended) {
    const [, , ns = '', name = ''] = s.split(':');
    const concreteNs = ns.replace(/[*?]/g, 'x');
    const concreteName = name.replace(/\*/g, '').replace(/\?/g, 'x');
    probes.add(`system:serviceaccount:${concreteNs}:${concreteName}`);
    probes.add(`system:serviceaccount:attacker-ns:${concreteName}`); // another namespace
    probes.add(`system:serviceaccount:${concreteNs}:attacker-sa`); // another SA
    probes.add(`system:serviceaccount:${concreteNs}:${concreteName}-2`); // look-alike suffix
    probes.add(`system:serviceaccount:${concreteNs}:${concreteName}:x`);
    probes.add(`system:serviceaccount:${concreteNs}x:${concreteName}`);
    probes.add(`system:serviceaccount:${concreteNs.toUpperCase()}:${concreteName}`);
    probes.add(`system:serviceaccounts:${concreteNs}`); // group, not a subject
    probes.add(`${s} `);
  }
  probes.add('');
  probes.add('*');
  probes.add('system:serviceaccount:*:*');

  for (const c of trusted) {
    for (const sub of exact) {
      expect(ask(policy, c, sub), `${c.name} ${sub} allowed`).toBe(true);
      expect(ask(policy, c, sub, 'sts.amazonaws.com.attacker'), `${c.name} ${sub} wrong aud`).toBe(false);
      expect(ask(policy, c, sub, 'STS.amazonaws.com'), `${c.name} ${sub} aud case`).toBe(false);
    }
    for (const sub of probes) expect(ask(policy, c, sub), `${c.name} probe ${JSON.stringify(sub)}`).toBe(allowedByConfig(sub));
  }
  // Another cluster's provider: never, whatever the subject.
  for (const sub of [...exact, ...probes]) expect(ask(policy, FOREIGN, sub), `foreign ${sub}`).toBe(false);
  // Provider of one trusted cluster with the issuer (claims) of another, or of the foreign one.
  for (const c of trusted) {
    for (const sub of exact) {
      expect(
        canAssumeWithWebIdentity(policy, { federatedPrincipal: c.oidcProviderArn, issuerHost: FOREIGN.issuerHost, claims: { aud: STS_AUDIENCE, sub } }),
      ).toBe(false);
      for (const d of trusted.filter((x) => x !== c)) {
        expect(canAssumeWithWebIdentity(policy, { federatedPrincipal: c.oidcProviderArn, issuerHost: d.issuerHost, claims: { aud: STS_AUDIENCE, sub } })).toBe(
          false,
        );
      }
    }
  }
  // Every statement pins aud with StringEquals.
  for (const st of policy.Statement) {
    const iss = String((st.Principal as { Federated: string }).Federated).split(':oidc-provider/')[1];
    expect(st.Condition?.StringEquals?.[`${iss}:aud`]).toBe(STS_AUDIENCE);
  }
}
