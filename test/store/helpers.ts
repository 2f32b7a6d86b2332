import { randomBytes, randomUUID } from 'node:crypto';

export const newCloudId = () => `cldrsrc_${randomUUID().replace(/-/g, '').slice(0, 20)}`;

/** A mapping config with `n` rules (~150 B of JSON each); random ids keep gzip from shrinking it to one chunk. */
export function bigConfig(n: number): Record<string, unknown> {
  const rules = Array.from({ length: n }, (_, i) => ({
    selector: {
      workload_type: ['training', 'inference', 'notebook'][i % 3],
      project: `proj-${i % 250}`,
      user: `user${i}@example.com`,
    },
    value: `arn:aws:iam::123456789012:role/ml-${randomBytes(12).toString('hex')}`,
    comment: `rule ${i} ${randomBytes(8).toString('hex')}`,
  }));
  return {
    schema_version: 1,
    cloud_default: { value: 'arn:aws:iam::123456789012:role/ml-default' },
    dataplane_iam_mapping: { rules },
  };
}

/** An (almost) incompressible document of roughly `bytes` bytes. */
export function incompressibleConfig(bytes: number): Record<string, unknown> {
  return { blob: randomBytes(Math.ceil((bytes * 3) / 4)).toString('base64') };
}
