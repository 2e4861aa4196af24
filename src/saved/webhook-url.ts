/**
 * Where a saved search's webhook may point. A webhook makes the server send
 * requests to an address a user typed, so an address inside the operator's
 * network (loopback, private, link-local: cloud metadata at 169.254.169.254)
 * would let any user probe it (SSRF). Such addresses are refused twice: when
 * the URL is saved (an IP literal or `localhost`) and when it is called,
 * after DNS resolution, so a name that resolves (or is re-pointed) to a
 * private address is refused too. `WEBHOOK_ALLOW_PRIVATE=true` lifts both,
 * for instances whose webhooks go to a LAN (and for tests).
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** Longest webhook URL accepted. */
export const MAX_WEBHOOK_URL = 2000;

const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv6');
}

/** Whether `address` (an IP literal) is loopback, private, link-local or otherwise not a public host. */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family === 4) return BLOCKED.check(bare, 'ipv4');
  if (family !== 6) return true;
  // IPv4-mapped (::ffff:10.0.0.1) and NAT64 (64:ff9b::a00:1) addresses reach the IPv4 host they embed.
  const lower = bare.toLowerCase();
  const mapped = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower)?.[1];
  if (mapped !== undefined) return BLOCKED.check(mapped, 'ipv4');
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex?.[1] !== undefined && hex[2] !== undefined) {
    const n = (parseInt(hex[1], 16) << 16) | parseInt(hex[2], 16);
    return BLOCKED.check([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'), 'ipv4');
  }
  return BLOCKED.check(bare, 'ipv6');
}

/** A checked webhook URL, or why it cannot be one (a message for the person who typed it). */
export type WebhookUrlCheck = { ok: true; url: string } | { ok: false; message: string };

/** Checks a webhook URL as it is saved: http(s), no credentials, and no private host unless allowed. */
export function checkWebhookUrl(raw: string, allowPrivate: boolean): WebhookUrlCheck {
  const text = raw.trim();
  if (text.length > MAX_WEBHOOK_URL) return { ok: false, message: `The webhook URL is longer than ${MAX_WEBHOOK_URL} characters.` };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, message: 'The webhook URL is not a URL: it should look like https://hooks.example.com/…' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, message: 'The webhook URL must start with http:// or https://.' };
  if (url.username !== '' || url.password !== '') return { ok: false, message: 'The webhook URL must not contain a user name or password; put a secret in its path instead.' };
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (!allowPrivate) {
    const local = host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || host.endsWith('.internal');
    if (local || (isIP(host) !== 0 && isPrivateAddress(host))) {
      return { ok: false, message: 'The webhook URL points to a private, loopback or link-local address, which this instance does not call (WEBHOOK_ALLOW_PRIVATE is off).' };
    }
  }
  return { ok: true, url: url.toString() };
}

/** Thrown by {@link guardedLookup} when a webhook host resolves to a private address. */
export class PrivateAddressError extends Error {
  constructor(host: string, address: string) {
    super(`${host} resolves to ${address}, a private, loopback or link-local address (WEBHOOK_ALLOW_PRIVATE is off)`);
    this.name = 'PrivateAddressError';
  }
}

/**
 * A `lookup` for http.request that refuses private addresses: the check runs
 * on the very addresses the socket then connects to, so DNS cannot answer one
 * thing to a check and another to the connection.
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...(options as LookupOneOptions), all: true } as LookupAllOptions, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 0);
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad !== undefined) return callback(new PrivateAddressError(hostname, bad.address), '', 0);
    const all = (options as { all?: boolean }).all === true;
    if (all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    const first = addresses[0];
    if (first === undefined) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
    return callback(null, first.address, first.family);
  });
};
