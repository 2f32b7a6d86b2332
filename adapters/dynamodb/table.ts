/**
 * The service's single DynamoDB table: definition, key builders and the item layout.
 *
 * Designed for single-item conditional writes only (no TransactWriteItems), so it runs unchanged
 * on dynalite (local) and real DynamoDB. TTL (`expiresAt`, enabled on the deployed table;
 * dynalite ignores it) drops old drift reports, plan pages and spent drift-worker slots; nothing
 * relies on it for correctness (a slot's own `until` decides whether it is held).
 * Reads go through lib-dynamodb's `paginateQuery` (table-client.ts) and are parsed (items.ts).
 *
 * Key schema: PK (S, HASH) + SK (S, RANGE), PAY_PER_REQUEST, no indexes (yet).
 * Every item also carries `type` (entity name) so a Scan/export is self-describing.
 *
 * ┌────────────────────┬──────────────────────────────────┬───────────┬──────────────────────────────────────────────┐
 * │ PK                 │ SK                               │ type      │ attributes                                   │
 * ├────────────────────┼──────────────────────────────────┼───────────┼──────────────────────────────────────────────┤
 * │ CLOUD#<cloudId>    │ VERSION#<version, 10 digits>     │ VERSION   │ cloudId, version, etag, createdAt, createdBy,│
 * │                    │   e.g. VERSION#0000000042        │           │ contentHash, ruleCount, sizeBytes, encoding, │
 * │                    │                                  │           │ blobHash, blobBytes, chunkCount              │
 * │ CLOUD#<cloudId>    │ BLOB#<blobHash>#<chunkNo, 4 dig> │ BLOB      │ data (B, ≤ 300 KiB), chunkNo, chunkCount     │
 * │ CLOUD#<cloudId>    │ CLUSTER#<clusterId>              │ STICKY    │ cloudId, clusterId, resolution (M)           │
 * │ CLOUD#<cloudId>    │ RUN#<version, 10 digits>         │ RUN       │ provisioning run of a version: status, times,│
 * │                    │                                  │           │ executionId, planDigest, itemCount, error    │
 * │ CLOUD#<cloudId>    │ RUN#<version>#ITEM#<name>        │ RUN_ITEM  │ result of one plan item (resources, error)   │
 * │ CLOUD#<cloudId>    │ PROVISIONING                     │ FENCE     │ claimedVersion: newest version provisioning  │
 * │ CLOUD#<cloudId>    │ PLAN#<version>#<planId>#<page 5d>│ PLAN_PAGE │ refs (≤ page size item refs), expiresAt (TTL)│
 * │ CLOUD#<cloudId>    │ DRIFT#<checked_at ISO>[#<n>]     │ DRIFT     │ one drift report: checkedAt, status, drifted,│
 * │                    │   (toISOString, ms precision)    │           │ configVersion, findingCount, bySeverity,     │
 * │                    │                                  │           │ body (B, gzip JSON report), expiresAt (TTL)  │
 * │ CLOUD#<cloudId>    │ CLAIMED#<resource key>           │ CLAIMED   │ copy of a claim this cloud holds (listing)   │
 * │ CLOUD#<cloudId>    │ WORKER#DRIFT#<true|false|mode>   │ DRIFT_    │ an on-demand check handed to the drift       │
 * │                    │                                  │  WORKER   │ worker: requestedAt, until, expiresAt (TTL)  │
 * │ CLOUDS             │ <cloudId>                        │ CLOUD     │ cloudId, registeredAt                        │
 * │ OWNERSHIP          │ INVENTORY#<resource key>         │ INVENTORY │ what the service created/adopted: cloudId,   │
 * │                    │                                  │           │ id (RoleId/InstanceProfileId/uid), token     │
 * │ OWNERSHIP          │ CLAIM#<resource key>             │ CLAIM     │ which cloud wants a name: cloudId, version   │
 * └────────────────────┴──────────────────────────────────┴───────────┴──────────────────────────────────────────────┘
 *
 * Config versions
 *  - Document body = JSON as written (the admin's key order) → gzip → split into ≤ 300 KiB
 *    chunks. `contentHash` = sha256 hex of the canonical JSON (keys sorted); `blobHash` = sha256 hex
 *    of the gzip bytes. Chunks are content-addressed by `blobHash` (never by `contentHash`: gzip
 *    output may differ between zlib builds, and a key must always map to identical bytes), so
 *    re-writing a chunk is an idempotent no-op and identical documents share their chunks.
 *  - Write order: all BLOB chunks first, then the VERSION item with `attribute_not_exists(PK)`.
 *    The VERSION put is the commit point: readers only look up blobs through a committed
 *    VERSION item, so they see versions whole or not at all.
 *  - Latest = Query `PK = CLOUD#id AND begins_with(SK, 'VERSION#')`, ScanIndexForward=false,
 *    Limit=1, ConsistentRead. History = same query, paged with `SK < VERSION#<before>`.
 *  - etag = `<version>-<first 12 hex of contentHash>`.
 *  - A writer that loses the commit race leaves its chunks behind (orphans; BLOB items carry no
 *    `expiresAt`, so TTL does not remove them). They are unreachable, harmless, and only exist when the losing content differed from the
 *    winner's; a future sweeper can delete BLOB items no VERSION item references.
 *
 * Cloud registry: `PK=CLOUDS, SK=<cloudId>` is put (conditionally, first one wins) just before
 * the first version of a cloud is committed, so `listClouds()` is one Query. It is written
 * before the commit so a crash can never leave a committed cloud unlisted; the price is that a
 * cloud whose very first commit failed is listed with no versions (consumers get `null` meta).
 *
 * Sticky resolutions: `PK=CLOUD#<id>, SK=CLUSTER#<clusterId>`, put with `attribute_not_exists(PK)`
 * (first writer wins), read with ConsistentRead.
 *
 * Drift reports (adapters/dynamodb/drift-store.ts): one item per check, SK `DRIFT#<checked_at>`
 * (ISO-8601 UTC sorts chronologically; `#<n>` is appended on a same-millisecond collision, which
 * still sorts after it). Latest = Query `begins_with(SK, 'DRIFT#')`, ScanIndexForward=false,
 * Limit=1, ConsistentRead. The report is gzip JSON in `body` (findings trimmed, most severe kept,
 * to stay under the item limit); `expiresAt` (epoch seconds) lets DynamoDB TTL drop old reports
 * (TTL is enabled on the deployed table; dynalite ignores it, harmlessly).
 *
 * Provisioning runs (adapters/dynamodb/run-store.ts): `RUN#<version, 10 digits>` holds the run of
 * a config version, `RUN#<version>#ITEM#<name>` one result per plan item (so getRun is one Query on
 * the `RUN#<version>` prefix), `PROVISIONING` the fencing token. Runs do not expire.
 *
 * Extending: new per-cloud entities go under the same PK with their own SK prefix. Prefixes must
 * not be a prefix of one another (`VERSION#`, `BLOB#`, `CLUSTER#`, `RUN#`, `DRIFT#`, `PLAN#`,
 * `CLAIMED#`, `WORKER#`, and the exact SK `PROVISIONING`). Should a cross-cloud access pattern appear, add a GSI on generic
 * `GSI1PK`/`GSI1SK` attributes.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export const VERSION_DIGITS = 10;
export const CHUNK_DIGITS = 4;
/** Max bytes of gzip data per BLOB item (DynamoDB's item limit is 400 KiB incl. names/keys). */
export const MAX_CHUNK_BYTES = 300 * 1024;
export const MAX_VERSION = 10 ** VERSION_DIGITS - 1;

export const ItemType = {
  VERSION: 'VERSION',
  BLOB: 'BLOB',
  STICKY: 'STICKY',
  CLOUD: 'CLOUD',
  RUN: 'RUN',
  RUN_ITEM: 'RUN_ITEM',
  FENCE: 'FENCE',
  DRIFT: 'DRIFT',
  PLAN_PAGE: 'PLAN_PAGE',
  INVENTORY: 'INVENTORY',
  CLAIM: 'CLAIM',
  CLAIMED: 'CLAIMED',
  DRIFT_WORKER: 'DRIFT_WORKER',
} as const;

export const keys = {
  cloudPk: (cloudId: string) => `CLOUD#${cloudId}`,
  cloudsPk: 'CLOUDS',
  versionPrefix: 'VERSION#',
  versionSk: (version: number) => `VERSION#${String(version).padStart(VERSION_DIGITS, '0')}`,
  blobPrefix: (blobHash: string) => `BLOB#${blobHash}#`,
  blobSk: (blobHash: string, chunkNo: number) => `BLOB#${blobHash}#${String(chunkNo).padStart(CHUNK_DIGITS, '0')}`,
  clusterSk: (clusterId: string) => `CLUSTER#${clusterId}`,
  runSk: (version: number) => `RUN#${String(version).padStart(VERSION_DIGITS, '0')}`,
  runItemSk: (version: number, name: string) => `RUN#${String(version).padStart(VERSION_DIGITS, '0')}#ITEM#${name}`,
  fenceSk: 'PROVISIONING',
  planPageSk: (version: number, planId: string, page: number) =>
    `PLAN#${String(version).padStart(VERSION_DIGITS, '0')}#${planId}#${String(page).padStart(5, '0')}`,
  driftPrefix: 'DRIFT#',
  /** `checkedAt`: ISO-8601 UTC (`toISOString()`), so keys sort by time. */
  driftSk: (checkedAt: string, collision = 0) => `DRIFT#${checkedAt}${collision > 0 ? `#${collision}` : ''}`,
  /** The drift worker's slot of a cloud for one kind of request (adapters/dynamodb/drift-store.ts). */
  driftWorkerSk: (slot: string) => `WORKER#DRIFT#${slot}`,
  /** Ownership inventory and claims across clouds (adapters/dynamodb/ownership-store.ts). */
  ownershipPk: 'OWNERSHIP',
  inventorySk: (resourceKey: string) => `INVENTORY#${resourceKey}`,
  claimSk: (resourceKey: string) => `CLAIM#${resourceKey}`,
  claimedPrefix: 'CLAIMED#',
  claimedSk: (resourceKey: string) => `CLAIMED#${resourceKey}`,
} as const;

/** CreateTable input for the service table (mirrored by the CloudFormation resource in serverless.yml). */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'PK', AttributeType: 'S' },
      { AttributeName: 'SK', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'PK', KeyType: 'HASH' },
      { AttributeName: 'SK', KeyType: 'RANGE' },
    ],
  };
}
