/**
 * lib/drift/gcp.ts: the Google identities a cloud still claims are looked for whatever its provider
 * now — GKE ServiceAccounts in the clusters their claims' issuers name (described through Google),
 * a cluster that cannot be described said in `unlisted`, EKS claims left to the AWS part.
 */
import { describe, expect, it } from 'vitest';
import { saKey } from '../../lib/drift/diff.js';
import { claimedGoogleIdentities, googleDriftFindings } from '../../lib/drift/gcp.js';
import type { ClaimRecord, GcpPort, GkeCluster, KubernetesPort, ServiceAccountInfo } from '../../lib/ports.js';
import { GKE_SA_ANNOTATION, gkeIssuer, parseGkeIssuer } from '../../lib/provisioning/gcp-settings.js';
import { ownershipLabels } from '../../lib/provisioning/ownership.js';
import type { PlannedVersion } from '../../lib/workflow/planning.js';

const CLOUD = 'cldrsrc_claims';
const NS = 'anyscale-operator';
const live = gkeIssuer('proj-a', 'us-central1', 'gke-live');
const gone = gkeIssuer('proj-a', 'us-central1', 'gke-gone');
const eks = 'oidc.eks.us-east-1.amazonaws.com/id/ABC';

const claim = (over: Partial<ClaimRecord>): ClaimRecord => ({
  kind: 'service-account',
  name: 'ksa',
  cloudId: CLOUD,
  configVersion: 1,
  claimedAt: '2026-01-01T00:00:00Z',
  ...over,
});
const sa = (name: string, annotations: Record<string, string>, labels = ownershipLabels(CLOUD)): ServiceAccountInfo => ({
  namespace: NS,
  name,
  annotations,
  labels,
  resourceVersion: '1',
});

function fakeGcp(listed: Record<string, ServiceAccountInfo[]>): GcpPort & { described: string[] } {
  const described: string[] = [];
  const k8s = (cluster: GkeCluster): KubernetesPort =>
    ({
      listServiceAccountsInAllNamespaces: async () => listed[cluster.name] ?? [],
    }) as unknown as KubernetesPort;
  return {
    described,
    describeGkeCluster: async (project: string, location: string | null, name: string) => {
      described.push(name);
      if (name === 'gke-gone') throw new Error('NOT_FOUND: cluster gke-gone');
      return { name, project, location, issuerHost: gkeIssuer(project, location, name), oidcProviderArn: '', accountId: project };
    },
    kubernetes: k8s,
    listServiceAccounts: async () => [],
  } as unknown as GcpPort & { described: string[] };
}

const awsPlan = { plan: { provider: 'AWS', configVersion: 2, gcpItems: [], items: [] }, clusters: [], settings: {} } as unknown as PlannedVersion;

describe('GKE issuers', () => {
  it('round-trip project, location (or none) and name; any other issuer is not GKE', () => {
    expect(parseGkeIssuer(gkeIssuer('p', 'europe-west1-b', 'c'))).toEqual({ project: 'p', location: 'europe-west1-b', name: 'c' });
    expect(parseGkeIssuer(gkeIssuer('p', null, 'c'))).toEqual({ project: 'p', location: null, name: 'c' });
    expect(parseGkeIssuer(eks)).toBeNull();
    expect(parseGkeIssuer(`${live}/extra`)).toBeNull();
  });
});

describe('claimed Google identities after a move to AWS', () => {
  it('keeps Google accounts and GKE ServiceAccount claims, not EKS ones nor roles', async () => {
    const claims = [
      claim({ kind: 'gcp-service-account', name: 'a@proj-a.iam.gserviceaccount.com' }),
      claim({ clusterIssuer: live, cluster: 'gke-live', namespace: NS }),
      claim({ clusterIssuer: eks, cluster: 'prod', namespace: NS }),
      claim({ kind: 'iam-role', name: 'r' }),
    ];
    const kept = await claimedGoogleIdentities({ listClaims: async () => claims }, CLOUD);
    expect(kept.map((c) => c.clusterIssuer ?? c.name)).toEqual(['a@proj-a.iam.gserviceaccount.com', live]);
  });

  it("reports the old stack's annotated ServiceAccounts in the claimed GKE cluster; an undescribable cluster is unlisted, not a failure", async () => {
    const gcp = fakeGcp({
      'gke-live': [
        sa('old-ksa', { [GKE_SA_ANNOTATION]: 'old@proj-a.iam.gserviceaccount.com' }),
        sa('aws-ksa', {}), // labelled, no GKE annotation: an AWS identity, the AWS part's
        sa('theirs', { [GKE_SA_ANNOTATION]: 'x@proj-a.iam.gserviceaccount.com' }, ownershipLabels('cldrsrc_other')),
      ],
    });
    const claims = [
      claim({ clusterIssuer: live, cluster: 'gke-live', namespace: NS, name: 'old-ksa' }),
      claim({ clusterIssuer: live, cluster: 'gke-live', namespace: NS, name: 'other-ksa' }),
      claim({ clusterIssuer: gone, cluster: 'gke-gone', namespace: NS }),
    ];
    const part = await googleDriftFindings({ gcp }, CLOUD, awsPlan, { claims });
    expect(gcp.described.sort()).toEqual(['gke-gone', 'gke-live']); // once per cluster
    expect(part?.findings.map((f) => [f.kind, f.cluster, f.name, f.severity])).toEqual([['orphan-service-account', 'gke-live', `${NS}/old-ksa`, 'low']]);
    expect([...(part?.gkeClusters.keys() ?? [])]).toEqual(['gke-live']);
    expect(part?.unlisted).toEqual([expect.stringContaining('GKE cluster gke-gone of project proj-a')]);
    // A newer, unfinished version that names it again keeps it.
    const kept = await googleDriftFindings({ gcp }, CLOUD, awsPlan, { claims, keepServiceAccounts: new Set([saKey('gke-live', NS, 'old-ksa')]) });
    expect(kept?.findings).toEqual([]);
  });

  it('claims nothing of Google: no Google part at all', async () => {
    expect(await googleDriftFindings({ gcp: fakeGcp({}) }, CLOUD, awsPlan, { claims: [] })).toBeNull();
  });
});
