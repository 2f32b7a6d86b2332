/**
 * The sandbox's EKS Pod Identity against the real @aws-sdk/client-eks (and the service's adapter,
 * adapters/aws/pod-identity.ts): EKS's paths, shapes, rules and errors, pagination, tags, the
 * agent add-on, persistence and the call log. moto_server has no Pod Identity APIs (its EKS
 * backend knows clusters, node groups, Fargate profiles and add-ons' absence), so there is no
 * agreement test against it.
 */
import {
  CreatePodIdentityAssociationCommand,
  DeletePodIdentityAssociationCommand,
  DescribeAddonCommand,
  DescribePodIdentityAssociationCommand,
  EKSClient,
  InvalidParameterException,
  ListPodIdentityAssociationsCommand,
  ListTagsForResourceCommand,
  paginateListPodIdentityAssociations,
  ResourceInUseException,
  ResourceNotFoundException,
  TagResourceCommand,
  UpdatePodIdentityAssociationCommand,
} from '@aws-sdk/client-eks';
import { CreateRoleCommand, IAMClient, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsPodIdentity } from '../../adapters/aws/pod-identity.js';
import type { ClusterIdentity } from '../../lib/ports.js';
import { createSandbox, startSandboxServer, type SandboxServer } from '../../local/sandbox/index.js';
import { TargetError } from '../../lib/target-errors.js';

let server: SandboxServer;
let eks: EKSClient;
let iam: IAMClient;
const ROLE = 'arn:aws:iam::123456789012:role/pods/app';
const cluster: ClusterIdentity = { name: 'sandbox', issuerHost: 'x', oidcProviderArn: 'x', accountId: '123456789012' };

beforeAll(async () => {
  server = await startSandboxServer({ port: 0, clusters: [{ name: 'sandbox' }, { name: 'second' }] });
  const config = { region: 'us-east-1', endpoint: `${server.url}/sandbox/aws`, credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 };
  eks = new EKSClient(config);
  iam = new IAMClient(config);
  await iam.send(
    new CreateRoleCommand({
      RoleName: 'app',
      Path: '/pods/',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }],
      }),
    }),
  );
});
afterAll(async () => {
  await server.close();
});

async function rejects<T extends Error>(p: Promise<unknown>, type: new (...args: any[]) => T): Promise<T> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(type);
    return e as T;
  }
  throw new Error('expected a rejection');
}

describe('pod identity associations (SDK)', () => {
  it('create, describe, update, list, tag, delete with EKS shapes; one per (namespace, service account); errors as EKS names them', async () => {
    const created = await eks.send(
      new CreatePodIdentityAssociationCommand({ clusterName: 'sandbox', namespace: 'ns', serviceAccount: 'app', roleArn: ROLE, tags: { team: 'ml' } }),
    );
    const a = created.association!;
    expect(a).toMatchObject({ clusterName: 'sandbox', namespace: 'ns', serviceAccount: 'app', roleArn: ROLE, tags: { team: 'ml' }, disableSessionTags: false });
    expect(a.associationId).toMatch(/^a-[a-z0-9]{17}$/);
    expect(a.associationArn).toBe(`arn:aws:eks:us-east-1:123456789012:podidentityassociation/sandbox/${a.associationId}`);
    expect(a.createdAt).toBeInstanceOf(Date);

    const dup = await rejects(
      eks.send(new CreatePodIdentityAssociationCommand({ clusterName: 'sandbox', namespace: 'ns', serviceAccount: 'app', roleArn: ROLE })),
      ResourceInUseException,
    );
    expect(dup.message).toContain(a.associationId!);
    expect(dup.$metadata.httpStatusCode).toBe(409);
    // The same pair in another cluster is another association.
    await eks.send(new CreatePodIdentityAssociationCommand({ clusterName: 'second', namespace: 'ns', serviceAccount: 'app', roleArn: ROLE }));

    await rejects(
      eks.send(new CreatePodIdentityAssociationCommand({ clusterName: 'nope', namespace: 'ns', serviceAccount: 'app', roleArn: ROLE })),
      ResourceNotFoundException,
    );
    for (const roleArn of ['arn:aws:iam::123456789012:user/app', 'not-an-arn', 'arn:aws:iam::123456789012:role/missing']) {
      await rejects(
        eks.send(new CreatePodIdentityAssociationCommand({ clusterName: 'sandbox', namespace: 'ns2', serviceAccount: 'app', roleArn })),
        InvalidParameterException,
      );
    }
    await rejects(
      eks.send(
        new CreatePodIdentityAssociationCommand({ clusterName: 'sandbox', namespace: 'ns2', serviceAccount: 'app', roleArn: ROLE, tags: { 'aws:x': 'y' } }),
      ),
      InvalidParameterException,
    );

    const described = await eks.send(new DescribePodIdentityAssociationCommand({ clusterName: 'sandbox', associationId: a.associationId }));
    expect(described.association?.roleArn).toBe(ROLE);
    await rejects(
      eks.send(new DescribePodIdentityAssociationCommand({ clusterName: 'sandbox', associationId: 'a-00000000000000000' })),
      ResourceNotFoundException,
    );
    // An association is found in its own cluster only.
    await rejects(eks.send(new DescribePodIdentityAssociationCommand({ clusterName: 'second', associationId: a.associationId })), ResourceNotFoundException);

    await iam.send(
      new CreateRoleCommand({
        RoleName: 'app2',
        Path: '/pods/',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    // EKS refuses a role the agent could not assume with session tags, and another account's role.
    const toApp2 = () =>
      eks.send(
        new UpdatePodIdentityAssociationCommand({
          clusterName: 'sandbox',
          associationId: a.associationId,
          roleArn: 'arn:aws:iam::123456789012:role/pods/app2',
        }),
      );
    await rejects(toApp2(), InvalidParameterException);
    await rejects(
      eks.send(
        new UpdatePodIdentityAssociationCommand({ clusterName: 'sandbox', associationId: a.associationId, roleArn: 'arn:aws:iam::999999999999:role/pods/app' }),
      ),
      InvalidParameterException,
    );
    await iam.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: 'app2',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: ['ec2.amazonaws.com', 'pods.eks.amazonaws.com'] }, Action: ['sts:AssumeRole', 'sts:Tag*'] }],
        }),
      }),
    );
    const updated = await eks.send(
      new UpdatePodIdentityAssociationCommand({ clusterName: 'sandbox', associationId: a.associationId, roleArn: 'arn:aws:iam::123456789012:role/pods/app2' }),
    );
    expect(updated.association?.roleArn).toBe('arn:aws:iam::123456789012:role/pods/app2');

    await eks.send(new TagResourceCommand({ resourceArn: a.associationArn, tags: { owner: 'me' } }));
    expect((await eks.send(new ListTagsForResourceCommand({ resourceArn: a.associationArn }))).tags).toEqual({ team: 'ml', owner: 'me' });

    const deleted = await eks.send(new DeletePodIdentityAssociationCommand({ clusterName: 'sandbox', associationId: a.associationId }));
    expect(deleted.association?.associationId).toBe(a.associationId);
    await rejects(eks.send(new DeletePodIdentityAssociationCommand({ clusterName: 'sandbox', associationId: a.associationId })), ResourceNotFoundException);

    const calls = server.sandbox.calls.filter({ service: 'eks' });
    expect(calls.find((c) => c.action === 'CreatePodIdentityAssociation')?.mutating).toBe(true);
    expect(calls.find((c) => c.action === 'DescribePodIdentityAssociation')?.mutating).toBe(false);
  });

  it('lists in pages (maxResults 1-100, nextToken), filtered by namespace and service account', async () => {
    for (let i = 0; i < 7; i++) {
      await eks.send(
        new CreatePodIdentityAssociationCommand({ clusterName: 'sandbox', namespace: `page-${i}`, serviceAccount: i % 2 ? 'odd' : 'even', roleArn: ROLE }),
      );
    }
    const first = await eks.send(new ListPodIdentityAssociationsCommand({ clusterName: 'sandbox', maxResults: 3 }));
    expect(first.associations).toHaveLength(3);
    expect(first.nextToken).toBeDefined();
    expect(Object.keys(first.associations![0]!).sort()).toEqual(['associationArn', 'associationId', 'clusterName', 'namespace', 'serviceAccount']);
    const all = [];
    for await (const page of paginateListPodIdentityAssociations({ client: eks, pageSize: 2 }, { clusterName: 'sandbox' }))
      all.push(...(page.associations ?? []));
    expect(all.filter((x) => x.namespace?.startsWith('page-'))).toHaveLength(7);
    const odd = await eks.send(new ListPodIdentityAssociationsCommand({ clusterName: 'sandbox', serviceAccount: 'odd' }));
    expect(odd.associations?.map((x) => x.namespace).sort()).toEqual(['page-1', 'page-3', 'page-5']);
    const one = await eks.send(new ListPodIdentityAssociationsCommand({ clusterName: 'sandbox', namespace: 'page-2', serviceAccount: 'even' }));
    expect(one.associations).toHaveLength(1);
    await rejects(eks.send(new ListPodIdentityAssociationsCommand({ clusterName: 'sandbox', maxResults: 101 })), InvalidParameterException);
    await rejects(eks.send(new ListPodIdentityAssociationsCommand({ clusterName: 'sandbox', nextToken: '%%%' })), InvalidParameterException);
    await rejects(eks.send(new ListPodIdentityAssociationsCommand({ clusterName: 'nope' })), ResourceNotFoundException);
  });

  it('every sandbox cluster has the eks-pod-identity-agent add-on; removeAddon takes it away', async () => {
    const addon = (await eks.send(new DescribeAddonCommand({ clusterName: 'second', addonName: 'eks-pod-identity-agent' }))).addon!;
    expect(addon).toMatchObject({ addonName: 'eks-pod-identity-agent', clusterName: 'second', status: 'ACTIVE' });
    server.sandbox.eks.podIdentity.removeAddon('second', 'eks-pod-identity-agent');
    const gone = await rejects(eks.send(new DescribeAddonCommand({ clusterName: 'second', addonName: 'eks-pod-identity-agent' })), ResourceNotFoundException);
    expect(gone.message).toBe('No addon: eks-pod-identity-agent found in cluster: second');
    server.sandbox.eks.podIdentity.addAddon('second', 'eks-pod-identity-agent');
  });

  it('the adapter maps EKS onto the port: null for what is missing, AlreadyExistsError for a taken pair', async () => {
    const port = new AwsPodIdentity({
      region: 'us-east-1',
      endpoint: `${server.url}/sandbox/aws`,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    const made = await port.createAssociation(cluster, { namespace: 'adapter', serviceAccount: 'app', roleArn: ROLE, tags: { k: 'v' } });
    expect(made).toMatchObject({ namespace: 'adapter', serviceAccount: 'app', roleArn: ROLE, tags: { k: 'v' } });
    const again = await port.createAssociation(cluster, { namespace: 'adapter', serviceAccount: 'app', roleArn: ROLE, tags: {} }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(TargetError);
    expect((again as TargetError).name).toBe('AlreadyExistsError');
    expect((await port.listAssociations(cluster, { namespace: 'adapter' })).map((a) => a.associationId)).toEqual([made.associationId]);
    expect(await port.describeAssociation(cluster, 'a-00000000000000000')).toBeNull();
    expect(await port.addonStatus(cluster, 'eks-pod-identity-agent')).toBe('ACTIVE');
    expect(await port.addonStatus(cluster, 'vpc-cni')).toBeNull();
    const bad = await port
      .createAssociation(cluster, { namespace: 'adapter2', serviceAccount: 'app', roleArn: 'arn:aws:iam::123456789012:role/missing', tags: {} })
      .catch((e: unknown) => e);
    expect((bad as TargetError).name).toBe('InvalidInputError');
    await port.deleteAssociation(cluster, made.associationId);
    await port.deleteAssociation(cluster, made.associationId); // a missing one is not an error
  });

  it('associations and add-ons survive a snapshot / restore (npm start keeps them across restarts)', () => {
    const snap = server.sandbox.snapshot();
    const copy = createSandbox({ clusters: [{ name: 'sandbox' }, { name: 'second' }] });
    copy.restore(JSON.stringify(snap));
    expect(
      copy.eks.podIdentity
        .all()
        .map((a) => a.associationId)
        .sort(),
    ).toEqual(
      server.sandbox.eks.podIdentity
        .all()
        .map((a) => a.associationId)
        .sort(),
    );
    expect(copy.eks.podIdentity.listAddons('second')).toEqual(['eks-pod-identity-agent']);
    // A snapshot from before Pod Identity existed: its clusters get the add-on.
    const old = { ...snap, eks: { clusters: snap.eks.clusters } };
    copy.restore(old);
    expect(copy.eks.podIdentity.all()).toEqual([]);
    expect(copy.eks.podIdentity.listAddons('sandbox')).toEqual(['eks-pod-identity-agent']);
  });
});
