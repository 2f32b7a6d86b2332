/** The local stand-in for API Gateway and Lambda (local/http-adapter.ts): what the handlers receive under `npm start`. */
import { describe, expect, it } from 'vitest';
import { lambdaContext, requestTime } from '../../local/http-adapter.js';

describe('requestTime', () => {
  it("writes API Gateway's requestContext.time format, in UTC", () => {
    expect(requestTime(Date.UTC(2026, 10, 24, 12, 0, 0, 999))).toBe('24/Nov/2026:12:00:00 +0000');
    expect(requestTime(Date.UTC(2027, 0, 5, 3, 4, 5))).toBe('05/Jan/2027:03:04:05 +0000');
    // Same second: the same text; the next second: a new one.
    expect(requestTime(Date.UTC(2027, 0, 5, 3, 4, 5, 500))).toBe('05/Jan/2027:03:04:05 +0000');
    expect(requestTime(Date.UTC(2027, 0, 5, 3, 4, 6))).toBe('05/Jan/2027:03:04:06 +0000');
  });
});

describe('lambdaContext', () => {
  it('carries the function and request, and counts the remaining time down from the timeout', () => {
    const context = lambdaContext('resolve', 'req-1', 1_000);
    expect(context).toMatchObject({
      functionName: 'resolve',
      awsRequestId: 'req-1',
      invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:resolve',
      logGroupName: '/aws/lambda/resolve',
      callbackWaitsForEmptyEventLoop: false,
    });
    // eslint-disable-next-line @typescript-eslint/unbound-method -- taken off the object, as middy's early timeout does
    const { getRemainingTimeInMillis } = context;
    const left = getRemainingTimeInMillis();
    expect(left).toBeGreaterThan(900);
    expect(left).toBeLessThanOrEqual(1_000);
    expect(lambdaContext('resolve', 'req-2', 0).getRemainingTimeInMillis()).toBe(0);
  });
});
