import { WeComMsgTypes, isKnownMsgtype, type MediaRef } from '@cz/contracts';

/** What a record contributes to search and to the media fetcher. */
export interface Extraction {
  /** searchable text: the parts in document order, one per line */
  text: string;
  media: MediaRef[];
}

/** chatrecords can quote chatrecords; deeper nesting is archived raw but not searched */
export const MAX_NESTING = 8;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** one JSON-pointer reference token (RFC 6901) */
export const pointerToken = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

// Bounds of MediaRef in the contract. Top-level payloads are validated against them already;
// items nested in chatrecord / mixed contents are not, so their values are bounded here.
const MAX_SDKFILEID = 16384;
const MAX_NAME = 1024;
const MAX_SHORT = 64;
const MAX_MD5 = 128;

/** WeCom integers, sometimes stringified by relays; anything else is dropped from the normalised form */
function toCount(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^[0-9]{1,15}$/.test(value)) return Number(value);
  return undefined;
}

class Collector {
  readonly parts: string[] = [];
  readonly media: MediaRef[] = [];

  text(...values: unknown[]): void {
    for (const value of values) {
      if (typeof value !== 'string') continue;
      const trimmed = value.trim();
      if (trimmed.length > 0) this.parts.push(trimmed);
    }
  }

  /** records the media reference of `payload` if it has one (nested items may lack it: not an error) */
  mediaRef(
    kind: string,
    payload: Json,
    path: string,
    sizeField: 'filesize' | 'voice_size' | 'imagesize' = 'filesize',
  ): void {
    const { sdkfileid, md5sum, play_length, filename, fileext } = payload;
    // an id too long to be WeCom's cannot be fetched; the record keeps it raw all the same
    if (typeof sdkfileid !== 'string' || sdkfileid.length === 0 || sdkfileid.length > MAX_SDKFILEID) return;
    const ref: MediaRef = { kind: kind.slice(0, MAX_SHORT), path, sdkfileid };
    if (typeof md5sum === 'string' && md5sum.length > 0 && md5sum.length <= MAX_MD5) ref.md5sum = md5sum;
    const size = toCount(payload[sizeField]) ?? toCount(payload.filesize);
    if (size !== undefined) ref.filesize = size;
    const seconds = toCount(play_length);
    if (seconds !== undefined) ref.play_length = seconds;
    if (typeof filename === 'string' && filename.length > 0) ref.filename = filename.slice(0, MAX_NAME);
    if (typeof fileext === 'string' && fileext.length > 0) ref.fileext = fileext.slice(0, MAX_SHORT);
    this.media.push(ref);
  }
}

/** `ChatRecordText` → `text`, `ChatRecordDoc` → `docmsg`; mixed items already use plain names */
function itemMsgtype(type: unknown): string {
  const name = typeof type === 'string' ? type.replace(/^ChatRecord/i, '').toLowerCase() : '';
  return name === 'doc' ? 'docmsg' : name;
}

/** An item's content is the JSON of its type's payload, as a string; plain text is kept as text. */
function itemPayload(content: unknown): unknown {
  if (typeof content !== 'string') return content;
  const trimmed = content.trim();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return content;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return content;
  }
}

function items(payload: Json, path: string, out: Collector, depth: number): void {
  asArray(payload.item).forEach((item, index) => {
    if (!isObject(item) || depth >= MAX_NESTING) return;
    const content = itemPayload(item.content);
    const itemPath = `${path}/item/${index}`;
    if (typeof content === 'string') out.text(content);
    else payloadOf(itemMsgtype(item.type), content, itemPath, out, depth + 1);
  });
}

/** Keys read from the payload of a msgtype Cunzheng does not know (best effort, one level). */
const GENERIC_TEXT_KEYS = [
  'title',
  'topic',
  'content',
  'description',
  'desc',
  'filename',
  'name',
  'address',
  'place',
  'remarks',
  'wish',
];

function payloadOf(msgtype: string, payload: unknown, path: string, out: Collector, depth: number): void {
  if (!isObject(payload)) {
    out.text(payload);
    return;
  }
  const p = payload;
  switch (msgtype) {
    case 'text':
    case 'meeting_notification':
      out.text(p.content);
      return;
    case 'markdown':
      // WeCom documents info.content; one SDK wrapper reads info.markdown
      out.text(p.content ?? p.markdown);
      return;
    case 'image':
    case 'video':
      out.mediaRef(msgtype, p, path);
      return;
    case 'voice':
      out.mediaRef('voice', p, path, 'voice_size');
      return;
    case 'emotion':
      out.text(p.title);
      out.mediaRef('emotion', p, path, 'imagesize');
      return;
    case 'file':
      out.text(p.filename);
      out.mediaRef('file', p, path);
      return;
    case 'voip_doc_share':
      out.text(p.filename);
      out.mediaRef('voip_doc_share', p, path);
      return;
    case 'meeting_voice_call':
      for (const shared of asArray(p.demofiledata)) if (isObject(shared)) out.text(shared.filename);
      out.mediaRef('meeting_voice_call', p, path);
      return;
    case 'revoke':
    case 'agree':
    case 'disagree':
    case 'voiptext':
      return; // nothing said: recall target, consent and call duration are structured fields
    case 'card':
      out.text(p.corpname, p.userid);
      return;
    case 'location':
      out.text(p.title, p.address);
      return;
    case 'link':
      out.text(p.title, p.description, p.link_url);
      return;
    case 'weapp':
      out.text(p.title, p.description, p.displayname);
      return;
    case 'docmsg':
      out.text(p.title, p.link_url);
      return;
    case 'todo':
      out.text(p.title, p.content);
      return;
    case 'vote':
      out.text(p.votetitle, ...asArray(p.voteitem));
      return;
    case 'collect':
      out.text(p.room_name, p.creator, p.title);
      for (const detail of asArray(p.details)) if (isObject(detail)) out.text(detail.ques);
      return;
    case 'redpacket':
    case 'external_redpacket':
      out.text(p.wish);
      return;
    case 'meeting':
      out.text(p.topic, p.address, p.remarks);
      return;
    case 'news':
      for (const article of asArray(p.item)) {
        if (isObject(article)) out.text(article.title, article.description, article.url);
      }
      return;
    case 'calendar':
      out.text(p.title, p.creatorname, ...asArray(p.attendeename), p.place, p.remarks);
      return;
    case 'sphfeed':
      out.text(p.sph_name, p.feed_desc);
      return;
    case 'qydiskfile':
      out.text(p.filename);
      return;
    case 'chatrecord':
      out.text(p.title);
      items(p, path, out, depth);
      return;
    case 'mixed':
      items(p, path, out, depth);
      return;
    default:
      out.text(...GENERIC_TEXT_KEYS.map((key) => p[key]));
      out.mediaRef(msgtype || 'unknown', p, path);
  }
}

/**
 * Searchable text and media references of one record, per msgtype (the switch in payloadOf is the
 * table; test/fixtures/wecom/index.ts shows the result for a sample of each). Switch records have
 * neither; an unknown msgtype gets the common text keys and the sdkfileid of its payload.
 */
export function extractContent(msgtype: string | undefined, raw: Json): Extraction {
  const out = new Collector();
  if (msgtype) {
    const key = isKnownMsgtype(msgtype) ? WeComMsgTypes[msgtype].payloadKey : msgtype;
    const payload = raw[key];
    if (payload !== undefined && payload !== null)
      payloadOf(msgtype, payload, `/${pointerToken(key)}`, out, 0);
    else if (msgtype === 'vote') payloadOf('vote', raw, '', out, 0);
  }
  return { text: out.parts.join('\n'), media: out.media };
}
