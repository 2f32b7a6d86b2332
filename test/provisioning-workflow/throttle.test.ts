/**
 * The sandbox's IAM rate limit (a setting for benchmarks and tests): mutating IAM calls beyond
 * N per second get IAM's own throttling answer (400, code Throttling); reads are not limited.
 */
import { CreateRoleCommand, GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsIam } from '../../adapters/aws/iam.js';
import type { PolicyDocument } from '../../lib/provisioning/policies.js';
import { startHarness, type Harness } from '../helpers/local.js';

const trust = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

describe('sandbox IAM throttle (iamMutatingRatePerSecond)', () => {
  let h: Harness;
  let iam: IAMClient;
  beforeAll(async () => {
    h = await startHarness({ sandbox: { iamMutatingRatePerSecond: 5 }, driftIntervalSeconds: 0 });
    iam = new IAMClient({
      region: 'us-east-1',
      endpoint: `${h.server.url}/sandbox/aws`,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
  });
  afterAll(async () => {
    iam?.destroy();
    await h?.stop();
  });

  it('answers 400 Throttling beyond the rate, as IAM does; the bucket refills', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => iam.send(new CreateRoleCommand({ RoleName: `throttled-${i}`, AssumeRolePolicyDocument: trust }))),
    );
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const throttled = results.filter((r) => r.status === 'rejected').map((r) => r.reason as { name: string; $metadata: { httpStatusCode: number } });
    expect(ok).toBeGreaterThanOrEqual(5);
    expect(ok).toBeLessThanOrEqual(7);
    expect(throttled.length).toBe(12 - ok);
    for (const e of throttled) expect([e.name, e.$metadata.httpStatusCode]).toEqual(['Throttling', 400]);
    // Reads are not limited.
    await Promise.all(
      Array.from({ length: 10 }, () =>
        iam.send(new GetRoleCommand({ RoleName: 'throttled-0' })).catch((e: { name: string }) => expect(e.name).toBe('NoSuchEntity')),
      ),
    );
    await new Promise((r) => setTimeout(r, 1100));
    await expect(iam.send(new CreateRoleCommand({ RoleName: 'after-refill', AssumeRolePolicyDocument: trust }))).resolves.toBeDefined();
  });

  it('the IAM adapter paces its mutating calls (IAM_WRITE_RATE): a burst of writes at that rate gets no throttling answer', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // the bucket full again
    const paced = new AwsIam({
      region: 'us-east-1',
      endpoint: `${h.server.url}/sandbox/aws`,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      writeRatePerSecond: 5,
      writeMaxAttempts: 1,
    });
    const mark = h.server.sandbox!.calls.mark();
    const trustPolicy = JSON.parse(trust) as PolicyDocument;
    const created = await Promise.all(
      Array.from({ length: 10 }, (_, i) => paced.createRole({ name: `paced-${i}`, path: '/', trustPolicy, tags: { owner: 'test' } })),
    );
    expect(created.map((r) => r.name).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `paced-${i}`).sort());
    const writes = h.server.sandbox!.calls.filter({ sinceSeq: mark, service: 'iam', mutating: true });
    expect(writes).toHaveLength(10);
    expect(writes.filter((c) => c.errorCode === 'Throttling')).toEqual([]);
    expect(paced.writePacing()).toMatchObject({ tokens: 10, throttled: 0, ratePerSecond: 5 });
    // Reads never wait for a write token.
    await expect(paced.getRole('paced-0')).resolves.toMatchObject({ name: 'paced-0' });
    paced.client.destroy();
    paced.writeClient.destroy();
  });
});
