/**
 * Cuts `text` into pieces of at most `max` characters (code points), each ending at the last
 * paragraph break, line break or space before the limit when there is one, so a long answer
 * reads as several whole messages. Pieces keep their text exactly: joined, they are `text`.
 */
export function splitMessage(text: string, max: number): string[] {
  const pieces: string[] = [];
  let rest = Array.from(text);
  while (rest.length > max) {
    const head = rest.slice(0, max).join('');
    const cut = bestCut(head, Math.floor(max / 2));
    const piece = Array.from(head.slice(0, cut));
    pieces.push(piece.join(''));
    rest = rest.slice(piece.length);
  }
  if (rest.length > 0 || pieces.length === 0) pieces.push(rest.join(''));
  return pieces;
}

/** Where to end a piece: after the last break past `least`, else at the limit. */
function bestCut(head: string, least: number): number {
  for (const separator of ['\n\n', '\n', ' ']) {
    const at = head.lastIndexOf(separator);
    if (at >= least) return at + separator.length;
  }
  return head.length;
}
