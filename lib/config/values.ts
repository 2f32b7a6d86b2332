/**
 * Identity value formats, by cloud provider and compute stack (seed 001):
 * - AWS VM: an IAM instance-profile NAME (an ARN is refused, with the name to use instead);
 * - GCP VM: a Google service-account e-mail;
 * - K8S (EKS or GKE): a Kubernetes service-account name (DNS-1123 subdomain).
 * Every accepted value is free of characters that could escape into a policy document,
 * an ARN, a YAML/JSON string or a shell command (quotes, `*`, `?`, `$`, braces, whitespace).
 */
export type CloudProvider = 'AWS' | 'GCP';
export type ComputeStack = 'VM' | 'K8S';

const IAM_NAME = /^[\w+=,.@-]{1,128}$/;
const INSTANCE_PROFILE_ARN = /^arn:aws[\w-]*:iam::\d+:instance-profile\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/;
const GCP_SA_EMAIL = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?@[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?\.gserviceaccount\.com$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;

export function valueKind(provider: CloudProvider, stack: ComputeStack): string {
  if (stack === 'K8S') return 'a Kubernetes service-account name';
  return provider === 'AWS' ? 'an AWS IAM instance-profile name' : 'a Google Cloud service-account e-mail';
}

/** Returns null when `value` is valid for the provider/stack, else a message saying what is expected. */
export function checkValue(provider: CloudProvider, stack: ComputeStack, value: string): string | null {
  if (stack === 'K8S') {
    if (value.length > 253 || !DNS1123_SUBDOMAIN.test(value)) {
      return `must be a Kubernetes service-account name (lowercase DNS-1123 subdomain: [a-z0-9] with '-' or '.', at most 253 characters), got ${quote(value)}`;
    }
    return null;
  }
  if (provider === 'AWS') {
    if (value.startsWith('arn:')) {
      const m = INSTANCE_PROFILE_ARN.exec(value);
      const role = /^arn:aws[\w-]*:iam::\d+:role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/.exec(value);
      const hint = m
        ? `; for ${value} the instance profile name is ${m[1]}`
        : role
          ? `; ${value} is a role ARN — give the instance profile's NAME instead (the profile that holds role ${role[1]}; when it was created with the role, e.g. by the console, it is also named ${role[1]})`
          : '';
      return `must be an IAM instance profile name, not an ARN${hint}`;
    }
    if (!IAM_NAME.test(value)) {
      return `must be an IAM instance profile name (1-128 characters of letters, digits and +=,.@_-), got ${quote(value)}`;
    }
    return null;
  }
  if (value.length > 254 || !GCP_SA_EMAIL.test(value)) {
    return `must be a Google Cloud service-account e-mail such as name@project.iam.gserviceaccount.com, got ${quote(value)}`;
  }
  return null;
}

function quote(value: string): string {
  const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  return JSON.stringify(shown);
}
