/**
 * WeCom external contacts (customers) have userids starting `wm` or `wo`; staff have the corp's
 * own userids. The API's message views carry raw ids; the console shows a customer's id masked
 * the way the portal's conversation view does (`wm****3f`), so no screen shows it whole.
 */
export function isExternalUserId(id: string): boolean {
  return /^w[mo][A-Za-z0-9_-]{2,}$/.test(id);
}

export function maskExternalId(id: string): string {
  return id.length <= 6 ? `${id.slice(0, 2)}****` : `${id.slice(0, 2)}****${id.slice(-2)}`;
}

/** How a sender or recipient id is shown. */
export function partyLabel(id: string): string {
  return isExternalUserId(id) ? maskExternalId(id) : id;
}

/**
 * A conversation as people read it: the room id of a group chat; for a one-to-one chat
 * (`p:<a>|<b>`) its two parties, customers masked.
 */
export function conversationLabel(conversationId: string, roomId: string | null): string {
  if (roomId) return roomId;
  const pair = /^p:(.+)\|(.+)$/.exec(conversationId);
  if (!pair) return partyLabel(conversationId);
  return `${partyLabel(pair[1]!)} ↔ ${partyLabel(pair[2]!)}`;
}
