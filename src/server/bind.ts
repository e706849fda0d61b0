/**
 * The `bind` parameter as Redis 7.0 reads it: addresses separated by spaces, `*` for every IPv4
 * address and `::*` for every IPv6 one, and a leading `-` for an address that may be missing
 * (binding it may fail without stopping the server), as in Redis's default `* -::*`.
 */

/** One address to listen on. */
export interface BindAddress {
  /** The address as Deno.listen takes it (`0.0.0.0` for `*`, `::` for `::*`). */
  readonly hostname: string;
  /** Whether failing to bind it is only logged (a leading `-`). */
  readonly optional: boolean;
}

/** The addresses of a `bind` value, in order; an empty value means every IPv4 address. */
export function bindAddresses(bind: string): BindAddress[] {
  const words = bind.split(/\s+/).filter((word) => word !== "");
  if (words.length === 0) return [{ hostname: "0.0.0.0", optional: false }];
  return words.map((word) => {
    const optional = word.startsWith("-");
    const address = optional ? word.slice(1) : word;
    const hostname = address === "*" ? "0.0.0.0" : address === "::*" ? "::" : address;
    return { hostname, optional };
  });
}

/** The first address of a `bind` value: what the cluster bus listens on and announces. */
export function firstBindAddress(bind: string): string {
  return bindAddresses(bind)[0].hostname;
}

/**
 * Whether a peer address counts as local for protected mode: exactly 127.0.0.1 or ::1, as
 * Redis's connIsLocal (other loopback addresses such as 127.0.0.2 do not).
 */
export function isLocalPeer(hostname: string): boolean {
  return hostname === "127.0.0.1" || hostname === "::1" || hostname === "::ffff:127.0.0.1";
}

/**
 * Redis's allowProtectedAction: whether a setting such as `enable-debug-command` or
 * `enable-protected-configs` lets a client do the protected thing: `yes`, or `local` and the
 * client's address (`ip:port`, as CLIENT LIST's `addr`) is 127.0.0.1 or ::1.
 */
export function allowProtectedAction(setting: "no" | "yes" | "local", addr: string): boolean {
  if (setting === "yes") return true;
  if (setting === "no") return false;
  const colon = addr.lastIndexOf(":");
  return isLocalPeer(colon < 0 ? addr : addr.slice(0, colon));
}
