import { createHmac, timingSafeEqual } from 'node:crypto';
import { badRequest } from '@cz/common';

export interface KeysetPosition {
  /** msgtime in ms of the last item of the page */
  t: number;
  /** id of the last item */
  id: string;
}

/**
 * Keyset cursors are signed (HMAC-SM3) so a caller cannot forge a position, and carry a hash of
 * the filters so a cursor cannot be replayed against a different query.
 */
export class CursorCodec {
  constructor(private readonly key: Buffer) {}

  encode(position: KeysetPosition, filterFingerprint: string): string {
    const body = Buffer.from(JSON.stringify({ ...position, f: filterFingerprint })).toString('base64url');
    return `${body}.${this.sign(body)}`;
  }

  decode(cursor: string, filterFingerprint: string): KeysetPosition {
    const [body, signature] = cursor.split('.');
    if (!body || !signature) throw badRequest('bad_cursor', 'cursor is malformed');
    const expected = Buffer.from(this.sign(body), 'base64url');
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw badRequest(
        'bad_cursor',
        'cursor signature does not match: it was altered or issued by another system',
      );
    }
    const parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as {
      t?: unknown;
      id?: unknown;
      f?: unknown;
    };
    if (typeof parsed.t !== 'number' || typeof parsed.id !== 'string')
      throw badRequest('bad_cursor', 'cursor is malformed');
    if (parsed.f !== filterFingerprint) throw badRequest('bad_cursor', 'cursor belongs to a different query');
    return { t: parsed.t, id: parsed.id };
  }

  private sign(body: string): string {
    return createHmac('sm3', this.key).update(body).digest('base64url');
  }
}
