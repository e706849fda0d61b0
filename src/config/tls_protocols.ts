/**
 * `tls-protocols`: Redis's syntax (versions separated by spaces, any case; empty means Redis's
 * default, TLSv1.2 and TLSv1.3), limited to what gocache's TLS (rustls) implements.
 */
/** The protocol versions rustls offers, in `tls-protocols`' spelling. */
const PROTOCOLS = ["TLSv1.2", "TLSv1.3"] as const;

/** One protocol version gocache can speak. */
export type TlsProtocol = typeof PROTOCOLS[number];

/**
 * The lowest and highest versions `tls-protocols` allows, or why the text is refused: a
 * version that does not exist (Redis's text) or that rustls does not implement (TLSv1, TLSv1.1).
 */
export function tlsProtocolRange(text: string): { min: TlsProtocol; max: TlsProtocol } | string {
  const words = text.split(" ").filter((w) => w !== "");
  if (words.length === 0) return { min: "TLSv1.2", max: "TLSv1.3" };
  const chosen = new Set<TlsProtocol>();
  for (const word of words) {
    const lower = word.toLowerCase();
    const known = PROTOCOLS.find((p) => p.toLowerCase() === lower);
    if (known !== undefined) chosen.add(known);
    else if (lower === "tlsv1" || lower === "tlsv1.1") {
      return `${word} is not supported: gocache's TLS (rustls) offers only TLSv1.2 and TLSv1.3`;
    } else {
      return "Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', " +
        "'TLSv1.2' and 'TLSv1.3'.";
    }
  }
  const ordered = PROTOCOLS.filter((p) => chosen.has(p));
  return { min: ordered[0], max: ordered[ordered.length - 1] };
}
