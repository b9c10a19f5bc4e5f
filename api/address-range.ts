/** An IP address or a CIDR range (`10.0.0.0/8`, `192.0.2.10`, `fd00::/8`), as policies list trusted proxies. */
import { isIP } from 'node:net';

export interface AddressRange {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** JSON Schema pattern: the shape only; parseAddressRange decides whether it is an address. */
export const ADDRESS_RANGE_PATTERN = '^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$';

export const ADDRESS_RANGE_EXAMPLE = 'an IP address or CIDR range (e.g. 10.0.0.0/8, 192.0.2.10, fd00::/8)';

/** The range `text` names, or undefined when it is not an address with an optional fitting prefix. */
export function parseAddressRange(text: string): AddressRange | undefined {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const version = isIP(address);
  if (version === 0) return undefined;
  const bits = version === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(bits) : text.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > bits) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}
