/**
 * The peers whose X-Forwarded-Proto and X-Forwarded-Host the app may believe (the policy's
 * `trustedProxies`): Envoy's rule for x-forwarded-proto, as a list of ranges. Empty by default, so
 * no client can claim https or another host to the app.
 */
import { BlockList, isIPv6 } from 'node:net';
import { parseAddressRange } from '../api/address-range.js';

export class TrustedProxies {
  private readonly ranges: BlockList | null;

  /** `ranges` were validated with the config; one that does not parse is trusted never. */
  constructor(ranges: readonly string[]) {
    let list: BlockList | null = null;
    for (const text of ranges) {
      const range = parseAddressRange(text);
      if (range === undefined) continue;
      list ??= new BlockList();
      list.addSubnet(range.address, range.prefix, range.family);
    }
    this.ranges = list;
  }

  /** Whether a connection from `address` (as a socket reports it, IPv4-mapped IPv6 included) is trusted. */
  trusts(address: string): boolean {
    if (this.ranges === null) return false;
    return this.ranges.check(address, isIPv6(address) ? 'ipv6' : 'ipv4');
  }
}
