/** The `{cloud}` path segment, validated once for every route. */
import { CLOUD_ID } from '../lib/config/constants.js';
import { AppError } from '../lib/errors.js';
import { pathParam, type HttpEvent } from './http.js';

export function cloudOf(event: HttpEvent): string {
  const cloud = pathParam(event, 'cloud');
  if (!CLOUD_ID.test(cloud)) {
    throw new AppError('INVALID_REQUEST', `cloud id ${JSON.stringify(cloud.slice(0, 80))} is not valid`, [
      { path: 'cloud', message: 'must be a cloud deployment id such as cldrsrc_XXXX (letters, digits, _ and -)' },
    ]);
  }
  return cloud;
}
