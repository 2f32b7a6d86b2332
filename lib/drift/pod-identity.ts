/**
 * Drift of EKS Pod Identity (items with `mechanism: pod-identity`): per planned cluster one
 * DescribeAddon (the eks-pod-identity-agent must be there) and one paged
 * ListPodIdentityAssociations, then DescribePodIdentityAssociation only for the associations on
 * planned (namespace, ServiceAccount) pairs (the list carries neither role nor tags). Findings:
 *
 * | kind                         | when                                                           | repair |
 * | ---------------------------- | -------------------------------------------------------------- | ------ |
 * | `pod-identity-agent-missing` | the cluster lacks the add-on (critical: every association dead) | no     |
 * | `association-missing`        | no association for a planned (cluster, namespace, SA)           | yes    |
 * | `association-role-mismatch`  | our association names another role                             | yes    |
 * | `association-foreign`        | an association that is not ours binds the SA: no marks of ours, another cloud's, or our tags without the inventory's record of it | no (never touched) |
 * | `association-unplanned`      | an association binds the SA's name in a namespace the item does not list: ours (any role), or another's naming our role | ours: yes (the run deletes it); others: no |
 *
 * Ours means what the workflow requires before it changes one: this cloud's tags and the
 * inventory's record of the associationId (read in one batch when the store can).
 */
import pMap from 'p-map';
import type { ClusterIdentity, DriftFinding, OwnershipStore, PodIdentityAssociationSummary, PodIdentityPort } from '../ports.js';
import { associationRef, resourceKey } from '../provisioning/inventory.js';
import type { K8sIrsaItem, ProvisioningPlan } from '../provisioning/plan.js';
import { POD_IDENTITY_AGENT_ADDON } from '../provisioning/pod-identity.js';
import { judgeAssociation } from '../workflow/ownership-checks.js';
import { notOurs } from '../workflow/pod-identity-steps.js';
import { DRIFT_KINDS } from './kinds.js';

export interface PodIdentityObservation {
  findings: DriftFinding[];
  /** Associations read (listed). */
  associations: number;
}

const finding = (d: Omit<DriftFinding, 'severity'>): DriftFinding => ({ ...d, severity: DRIFT_KINDS[d.kind].severity });

export async function podIdentityFindings(input: {
  port: PodIdentityPort | undefined;
  /** The inventory (absent: the tags alone decide). */
  ownership?: OwnershipStore;
  cloudId: string;
  plan: ProvisioningPlan;
  clusters: readonly ClusterIdentity[];
  concurrency?: number;
}): Promise<PodIdentityObservation> {
  const items = input.plan.items.filter((i): i is K8sIrsaItem => i.kind === 'k8s-irsa' && i.mechanism === 'pod-identity');
  if (items.length === 0 || !input.port) return { findings: [], associations: 0 };
  const port = input.port;
  const multiCluster = input.clusters.length > 1;
  const findings: DriftFinding[] = [];
  let associations = 0;
  for (const cluster of input.clusters) {
    const where = multiCluster ? ` in cluster ${cluster.name}` : '';
    const [addon, listed] = await Promise.all([port.addonStatus(cluster, POD_IDENTITY_AGENT_ADDON), port.listAssociations(cluster)]);
    associations += listed.length;
    if (addon === null) {
      findings.push(
        finding({
          kind: 'pod-identity-agent-missing',
          name: cluster.name,
          resource: 'eks-addon',
          cluster: cluster.name,
          expected: POD_IDENTITY_AGENT_ADDON,
          actual: 'missing',
          message:
            `cluster ${cluster.name} no longer has the ${POD_IDENTITY_AGENT_ADDON} add-on: no pod there gets credentials from its pod identity association ` +
            `(${items.length} identit${items.length === 1 ? 'y' : 'ies'} of this config); the service never installs it — aws eks create-addon --cluster-name ${cluster.name} --addon-name ${POD_IDENTITY_AGENT_ADDON}`,
          repairable: false,
        }),
      );
    }
    const byPair = new Map<string, PodIdentityAssociationSummary>(listed.map((a) => [`${a.namespace}\u0000${a.serviceAccount}`, a]));
    const wanted = items.flatMap((item) => item.serviceAccount.namespaces.map((namespace) => ({ item, namespace })));
    const described = await pMap(
      wanted,
      async ({ item, namespace }) => {
        const summary = byPair.get(`${namespace}\u0000${item.serviceAccount.name}`);
        return { item, namespace, current: summary ? await port.describeAssociation(cluster, summary.associationId) : null };
      },
      { concurrency: Math.max(1, input.concurrency ?? 8) },
    );
    const refs = described.filter((d) => d.current).map((d) => associationRef(cluster, d.namespace, d.item.serviceAccount.name));
    const records = input.ownership?.getInventories && refs.length > 0 ? await input.ownership.getInventories(refs) : undefined;
    findings.push(...(await unplannedFindings(port, input.ownership, input.cloudId, cluster, items, listed, where)));
    for (const { item, namespace, current } of described) {
      const sa = item.serviceAccount.name;
      const base = { name: `${namespace}/${sa}`, resource: 'pod-identity-association', item: sa, cluster: cluster.name, namespace };
      const ref = associationRef(cluster, namespace, sa);
      const verdict = current
        ? (await judgeAssociation(input.ownership, ref, current, input.cloudId, records ? (records.get(resourceKey(ref)) ?? null) : undefined)).verdict
        : null;
      if (!current) {
        findings.push(
          finding({
            ...base,
            kind: 'association-missing',
            expected: item.role.arn,
            actual: 'missing',
            message: `the pod identity association of ${namespace}/${sa}${where} no longer exists: its pods get no AWS credentials from role ${item.role.name}`,
            repairable: true,
          }),
        );
      } else if (verdict && verdict.kind !== 'ours') {
        findings.push(
          finding({
            ...base,
            kind: 'association-foreign',
            expected: `an association of this service → ${item.role.arn}`,
            actual: `${current.associationId} → ${current.roleArn}`,
            message:
              `service account ${namespace}/${sa}${where} is bound by association ${current.associationId} to ${current.roleArn}, which ${notOurs(verdict)}` +
              `: its pods get that role; the service never changes it — delete it (aws eks delete-pod-identity-association --cluster-name ${cluster.name} --association-id ${current.associationId}) and repair`,
            repairable: false,
          }),
        );
      } else if (current.roleArn !== item.role.arn) {
        findings.push(
          finding({
            ...base,
            kind: 'association-role-mismatch',
            expected: item.role.arn,
            actual: current.roleArn,
            message: `the pod identity association ${current.associationId} of ${namespace}/${sa}${where} now names ${current.roleArn} — was ${item.role.arn}: its pods get that role's permissions`,
            repairable: true,
          }),
        );
      }
    }
  }
  return { findings, associations };
}

/**
 * Associations of the items' ServiceAccount names in namespaces their items do not list (a
 * namespace removed from the config): the role's trust names the ServiceAccount and the cluster,
 * not the namespace, so such an association lets that namespace's pods act as the role. Ours are
 * repairable (the run deletes them); another's naming the item's role is reported, never touched.
 */
async function unplannedFindings(
  port: PodIdentityPort,
  ownership: OwnershipStore | undefined,
  cloudId: string,
  cluster: ClusterIdentity,
  items: readonly K8sIrsaItem[],
  listed: readonly PodIdentityAssociationSummary[],
  where: string,
): Promise<DriftFinding[]> {
  const bySa = new Map(items.map((i) => [i.serviceAccount.name, i] as const));
  const out: DriftFinding[] = [];
  for (const summary of listed) {
    const item = bySa.get(summary.serviceAccount);
    if (!item || item.serviceAccount.namespaces.includes(summary.namespace)) continue;
    const current = await port.describeAssociation(cluster, summary.associationId);
    if (!current) continue;
    const ref = associationRef(cluster, summary.namespace, summary.serviceAccount);
    const { verdict } = await judgeAssociation(ownership, ref, current, cloudId);
    if (verdict.kind !== 'ours' && current.roleArn !== item.role.arn) continue; // another's binding of another role
    const name = `${summary.namespace}/${summary.serviceAccount}`;
    const handling =
      verdict.kind === 'ours'
        ? 'a repair (or the next provisioning run) deletes it'
        : `it ${notOurs(verdict)}, so the service never touches it — delete it (aws eks delete-pod-identity-association --cluster-name ${cluster.name} --association-id ${current.associationId})`;
    out.push(
      finding({
        kind: 'association-unplanned',
        name,
        resource: 'pod-identity-association',
        item: item.serviceAccount.name,
        cluster: cluster.name,
        namespace: summary.namespace,
        expected: 'no association (the namespace is not in the config)',
        actual: `${current.associationId} → ${current.roleArn}`,
        message: `association ${current.associationId}${where} binds ${name}, a namespace the config does not name, to ${current.roleArn}: its pods can act as that role; ${handling}`,
        repairable: verdict.kind === 'ours',
      }),
    );
  }
  return out;
}
