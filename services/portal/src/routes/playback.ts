import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  CallId,
  CorpId,
  ErrorReply,
  MediaId,
  MediaPlaybackQuery,
  type ArchivedMessageV1,
} from '@cz/contracts';
import {
  AppError,
  badRequest,
  notFound,
  secureFetchFor,
  unavailable,
  wecomMediaId,
  type ClientTls,
} from '@cz/common';
import {
  integrityContext,
  isIntegrityError,
  messageBinding,
  openMessageRecord,
  reportIntegrityFailure,
} from '../integrity';
import { appendAudit } from '../audit';
import { canSeeCall, canSeeConversation, loadAccess, unrestricted, type Access } from '../scope';

export interface PlaybackOptions {
  /** where the recordings service listens, e.g. https://127.0.0.1:8084 */
  url: string;
  /** the CA its certificate must chain to, and the portal's client certificate */
  tls?: ClientTls;
  /** the portal's caller credential (CZ_KEYSERVICE_TOKEN), granted `recordings.read` */
  token: string;
}

const Format = Type.Optional(Type.Union([Type.Literal('original'), Type.Literal('playable')]));
const errors = {
  400: ErrorReply,
  401: ErrorReply,
  403: ErrorReply,
  404: ErrorReply,
  416: ErrorReply,
  503: ErrorReply,
};
/** headers of the recordings service's answer that the browser needs */
/** shown inline (players, image viewers); anything else — HTML, SVG, documents — is a download */
const INLINE_TYPES = /^(audio\/|video\/|image\/(png|jpeg|gif|webp|bmp)$)/;
const PASSED_ON = [
  'content-type',
  'content-length',
  'content-range',
  'accept-ranges',
  'etag',
  'x-cz-transcoded-from',
];

/**
 * Playback for people: the portal checks the session and role, proxies the (Range) request to the
 * recordings service with its own caller credential, and writes the read into the audit trail
 * before a single byte of content is sent. The recordings service is never exposed to browsers.
 */
const routes: FastifyPluginAsyncTypebox<{ recordings?: PlaybackOptions }> = async (app, { recordings }) => {
  async function relay(
    request: FastifyRequest,
    reply: FastifyReply,
    path: string,
    audit: { action: string; target: string; detail: Record<string, unknown> },
  ) {
    if (!recordings)
      throw unavailable('playback_not_configured', 'this portal has no recordings service configured');
    const headers: Record<string, string> = { authorization: `Bearer ${recordings.token}` };
    const range = request.headers.range;
    if (range) headers.range = range;
    let upstream: Response;
    try {
      upstream = await secureFetchFor(recordings.tls)(new URL(path, recordings.url), { headers });
    } catch (err) {
      request.log.warn({ err }, 'recordings service unreachable');
      throw unavailable('recordings_unavailable', 'the recordings service is unreachable; retry later');
    }
    if (upstream.status !== 200 && upstream.status !== 206) {
      const body = (await upstream.json().catch(() => undefined)) as
        { code?: string; message?: string } | undefined;
      if (upstream.status === 416) reply.header('content-range', upstream.headers.get('content-range') ?? '');
      if (upstream.status >= 500 || upstream.status === 401) {
        request.log.warn(
          { status: upstream.status, code: body?.code },
          'recordings service refused playback',
        );
      }
      const status = upstream.status === 401 ? 503 : upstream.status;
      throw new AppError(
        status,
        body?.code ?? 'playback_failed',
        body?.message ?? `recordings answered ${upstream.status}`,
      );
    }
    // the read is on record before the content leaves; if the trail cannot be written, nothing is sent
    try {
      await appendAudit(app.db, {
        actor: request.user?.username ?? 'unknown',
        action: audit.action,
        target: audit.target,
        detail: { ...audit.detail, range: range ?? null, status: upstream.status },
      });
    } catch (err) {
      await upstream.body?.cancel().catch(() => undefined);
      throw err;
    }
    reply
      .code(upstream.status)
      .header('cache-control', 'private, no-store')
      // archived files are untrusted content: never run as a page on the portal's origin
      .header('content-security-policy', "default-src 'none'; sandbox")
      .header('x-content-type-options', 'nosniff');
    for (const name of PASSED_ON) {
      const value = upstream.headers.get(name);
      if (value !== null) reply.header(name, value);
    }
    const type = upstream.headers.get('content-type') ?? '';
    if (!INLINE_TYPES.test(type)) reply.header('content-disposition', 'attachment');
    if (!upstream.body) return reply.send();
    return reply.send(Readable.fromWeb(upstream.body as WebReadableStream<Uint8Array>));
  }

  /** REG-05: an out-of-scope read is answered like a missing object, and recorded as denied. */
  async function deny(
    request: FastifyRequest,
    action: string,
    target: string,
    detail: Record<string, unknown>,
  ) {
    await appendAudit(app.db, {
      actor: request.user?.username ?? 'unknown',
      action,
      target,
      detail: { ...detail, reason: 'out_of_scope' },
    });
  }

  /** The message is visible to the user and refers to the media. */
  async function mediaVisible(
    request: FastifyRequest,
    access: Access,
    corpId: string,
    mediaId: string,
    messageId: string,
  ) {
    const [key] = await app.db.query<
      {
        msgtime: Date;
      }[]
    >('SELECT msgtime FROM message_key WHERE id = UNHEX(?)', [messageId]);
    if (!key) return false;
    const [row] = await app.db.query<
      { id: string; corp_id: string; msgid: string; conversation_id: string; sealed_record: Buffer }[]
    >(
      'SELECT id, corp_id, msgid, conversation_id, sealed_record FROM message WHERE msgtime = ? AND id = ? AND corp_id = ?',
      [key.msgtime, messageId, corpId],
    );
    if (!row || !(await canSeeConversation(app.db, access, corpId, row.conversation_id))) return false;
    let record: ArchivedMessageV1;
    try {
      record = await openMessageRecord(app.keys, row);
    } catch (err) {
      if (!isIntegrityError(err)) throw err;
      // a moved record cannot vouch for the media it names
      await reportIntegrityFailure(integrityContext(app.db, request), messageBinding(row), err);
      return false;
    }
    return (
      (record.media ?? []).some((ref) => wecomMediaId(ref.sdkfileid) === mediaId) ||
      mediaId === record.msgid ||
      mediaId.startsWith(`${record.msgid}.`)
    );
  }

  app.get(
    '/v1/calls/:callId/recording',
    {
      exposeHeadRoute: false,
      preHandler: app.requireUser('auditor', 'risk_officer', 'admin'),
      schema: {
        params: Type.Object({ callId: CallId }),
        querystring: Type.Object({ corpId: CorpId, format: Format }, { additionalProperties: false }),
        response: errors,
      },
    },
    async (request, reply) => {
      const { callId } = request.params;
      const { corpId, format } = request.query;
      const [call] = await app.db.query<{ id: string; agent_id: string }[]>(
        'SELECT id, agent_id FROM call_record WHERE corp_id = ? AND call_id = ?',
        [corpId, callId],
      );
      const missing = () => notFound(`no call ${callId} of ${corpId} is archived`);
      if (!call) throw missing();
      if (!(await canSeeCall(app.db, await loadAccess(app.db, request.user!), corpId, call.agent_id))) {
        await deny(request, 'recording.play_denied', `call:${call.id}`, { corpId, callId });
        throw missing();
      }
      const query = new URLSearchParams({ corpId, ...(format ? { format } : {}) });
      return relay(request, reply, `/v1/recordings/${encodeURIComponent(callId)}?${query.toString()}`, {
        action: 'recording.play',
        target: `call:${call.id}`,
        detail: { corpId, callId, format: format ?? null },
      });
    },
  );

  app.get(
    '/v1/media/:corpId/:mediaId',
    {
      exposeHeadRoute: false,
      preHandler: app.requireUser('auditor', 'risk_officer', 'admin'),
      schema: {
        params: Type.Object({ corpId: CorpId, mediaId: MediaId }),
        querystring: MediaPlaybackQuery,
        response: errors,
      },
    },
    async (request, reply) => {
      const { corpId, mediaId } = request.params;
      const { format, message } = request.query;
      const access = await loadAccess(app.db, request.user!);
      if (!unrestricted(access)) {
        if (!message)
          throw badRequest(
            'message_required',
            'with a data scope, name the message that refers to the media: ?message=<archive id>',
          );
        if (!(await mediaVisible(request, access, corpId, mediaId, message))) {
          await deny(request, 'media.view_denied', `media:${corpId}/${mediaId}`, {
            corpId,
            mediaId,
            message,
          });
          throw notFound(`no media ${mediaId} of ${corpId}`);
        }
      }
      const query = format ? `?format=${format}` : '';
      return relay(
        request,
        reply,
        `/v1/media/${encodeURIComponent(corpId)}/${encodeURIComponent(mediaId)}${query}`,
        {
          action: 'media.view',
          target: `media:${corpId}/${mediaId}`,
          detail: { corpId, mediaId, format: format ?? null },
        },
      );
    },
  );
};

export default routes;
