/**
 * XML rendering for the AWS query protocol (IAM, STS): result envelopes, `member` lists and error
 * documents in the exact shapes the AWS SDK v3 and botocore parsers expect.
 */
import type { Reply } from './types.js';

/** A value that renders to XML: objects → child elements, arrays → `<member>` lists. */
export type XmlValue = string | number | boolean | undefined | null | XmlValue[] | { [element: string]: XmlValue };
export type XmlObject = { [element: string]: XmlValue };

export const IAM_XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';
export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

export function element(name: string, value: XmlValue): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return `<${name}>${value.map((item) => element('member', item)).join('')}</${name}>`;
  if (typeof value === 'object') return `<${name}>${children(value)}</${name}>`;
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

const children = (obj: XmlObject): string =>
  Object.entries(obj)
    .map(([k, v]) => element(k, v))
    .join('');

const XML_HEADERS = { 'content-type': 'text/xml' } as const;

/** `<ActionResponse xmlns><ActionResult>…</ActionResult><ResponseMetadata><RequestId/></ResponseMetadata></ActionResponse>`. */
export function queryResponse(action: string, result: XmlObject | undefined, xmlns: string, requestId: string): Reply {
  const resultXml = result === undefined ? '' : `<${action}Result>${children(result)}</${action}Result>`;
  return {
    status: 200,
    headers: { ...XML_HEADERS, 'x-amzn-requestid': requestId },
    body: `<${action}Response xmlns="${xmlns}">${resultXml}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
  };
}

/** `<ErrorResponse xmlns><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`. */
export function queryError(error: { status: number; code: string; message: string; type?: 'Sender' | 'Receiver' }, xmlns: string, requestId: string): Reply {
  const type = error.type ?? (error.status >= 500 ? 'Receiver' : 'Sender');
  return {
    status: error.status,
    headers: { ...XML_HEADERS, 'x-amzn-requestid': requestId },
    body:
      `<ErrorResponse xmlns="${xmlns}"><Error><Type>${type}</Type><Code>${escapeXml(error.code)}</Code>` +
      `<Message>${escapeXml(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    errorCode: error.code,
  };
}

/** Policy documents travel URL-encoded inside IAM responses (RFC 3986, like IAM). */
export const encodePolicy = (document: string): string =>
  encodeURIComponent(document).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
