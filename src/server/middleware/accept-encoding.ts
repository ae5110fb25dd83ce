/**
 * Content-coding negotiation for the files the server precompresses.
 * Koa's `ctx.acceptsEncodings()` breaks ties by the header's order, so a
 * browser sending `gzip, deflate, br` would get gzip; here a tie goes to
 * the smaller coding (brotli), as browsers expect.
 */

/** A coding the server can answer with; `identity` is the file as it is. */
export type ContentCoding = 'br' | 'gzip' | 'identity';

/** Best first: the order in which a tie between equal q-values is broken. */
const PREFERENCE: readonly ContentCoding[] = ['br', 'gzip', 'identity'];

/**
 * The coding to answer a request with `Accept-Encoding: header`: the
 * acceptable one (q > 0) with the highest q, ties going to brotli, then
 * gzip. No header means identity only; a header that refuses everything
 * still gets identity (the one coding every client can read).
 *
 * @example
 * chooseCoding('gzip, deflate, br, zstd'); // 'br'
 * chooseCoding('br;q=0, gzip');            // 'gzip'
 * chooseCoding(undefined);                 // 'identity'
 */
export function chooseCoding(header: string | undefined): ContentCoding {
  if (header === undefined || header.trim() === '') return 'identity';
  const q = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.split(';');
    const coding = name!.trim().toLowerCase();
    if (coding === '') continue;
    let weight = 1;
    for (const param of params) {
      const match = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(param);
      if (match) weight = Number(match[1]);
    }
    if (!Number.isFinite(weight)) weight = 0;
    q.set(coding, Math.max(q.get(coding) ?? 0, weight));
  }
  const star = q.get('*');
  const weightOf = (coding: ContentCoding): number => {
    const explicit = q.get(coding === 'gzip' && !q.has('gzip') ? 'x-gzip' : coding);
    if (explicit !== undefined) return explicit;
    if (star !== undefined) return star;
    // RFC 9110 12.5.3: identity is acceptable unless refused, other codings only when listed.
    return coding === 'identity' ? 1 : 0;
  };
  let best: ContentCoding = 'identity';
  let bestWeight = 0;
  for (const coding of PREFERENCE) {
    const weight = weightOf(coding);
    if (weight > bestWeight) {
      best = coding;
      bestWeight = weight;
    }
  }
  return best;
}
