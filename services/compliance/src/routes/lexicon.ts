import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  ErrorReply,
  LexiconDiffQuery,
  LexiconDiffReply,
  LexiconEntry,
  LexiconEntryListReply,
  LexiconEntryParams,
  LexiconEntryQuery,
  LexiconImportRefusal,
  LexiconImportReply,
  LexiconImportRequest,
  LexiconPublishReply,
  LexiconPublishRequest,
  LexiconTestReply,
  LexiconTestRequest,
  LexiconVersionListReply,
  LexiconVersionParams,
  RescanJobListReply,
  RescanJobParams,
  RescanJobView,
  RescanRequest,
} from '@cz/contracts';
import { AppError, badRequest, callerOf, notFound } from '@cz/common';
import { entriesFromCsv, entriesToCsv } from '../lexicon/csv';
import {
  deleteDraftEntry,
  diffVersions,
  discardDraft,
  importIntoDraft,
  listVersions,
  loadEntries,
  publishDraft,
  queryEntries,
  requireVersion,
  saveDraftEntry,
  versionWithStatus,
} from '../lexicon/store';
import { cancelRescan, checkRescan, getRescan, listRescans, queueRescan } from '../lexicon/rescans';

/** the header naming the person a trusted caller (the portal) acts for */
const ACTOR_HEADER = 'x-cz-actor';
/** a portal username, percent-encoded in the header (usernames need not be ASCII): no spaces or control characters */
const ACTOR = /^[^\s\p{Cc};]{1,64}$/u;

/** 1 MiB of text as JSON: up to 3 bytes per character in UTF-8, 6 when escaped */
const TEST_BODY_LIMIT = 7 * 1024 * 1024;
/** the contract's 4 Mi characters of CSV, mostly Chinese */
const IMPORT_BODY_LIMIT = 13 * 1024 * 1024;

const errors = {
  400: ErrorReply,
  401: ErrorReply,
  403: ErrorReply,
  404: ErrorReply,
  409: ErrorReply,
  413: ErrorReply,
  503: ErrorReply,
};

/**
 * Lexicon management for trusted callers holding `compliance.lexicon` (the portal relays the
 * console's requests, with the person in `x-cz-actor`; the CLI calls with the local tools'
 * credential): versions and entries, the draft (edit, import, discard, publish), diff, CSV export,
 * the tester and retroactive scan jobs. The tester's text is scanned in memory and never logged or
 * stored.
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  const auth = app.requireCaller('compliance.lexicon');

  /** the person behind the request: the portal's header, else the calling service itself */
  const actorOf = (request: FastifyRequest): string => {
    const header = request.headers[ACTOR_HEADER];
    if (header === undefined) return callerOf(request).name;
    let actor: string | undefined;
    try {
      actor = typeof header === 'string' ? decodeURIComponent(header) : undefined;
    } catch {
      actor = undefined;
    }
    if (actor === undefined || !ACTOR.test(actor))
      throw badRequest('bad_actor', `${ACTOR_HEADER} must be a percent-encoded username`);
    return actor;
  };

  app.get(
    '/v1/lexicon/versions',
    { onRequest: auth, schema: { response: { 200: LexiconVersionListReply, ...errors } } },
    async () => listVersions(app.db),
  );

  app.get(
    '/v1/lexicon/versions/:version/entries',
    {
      onRequest: auth,
      schema: {
        params: LexiconVersionParams,
        querystring: LexiconEntryQuery,
        response: { 200: LexiconEntryListReply, ...errors },
      },
    },
    async (request) => {
      await requireVersion(app.db, request.params.version);
      return queryEntries(app.db, request.params.version, request.query);
    },
  );

  app.get(
    '/v1/lexicon/versions/:version/export',
    {
      onRequest: auth,
      schema: { params: LexiconVersionParams, response: { 200: Type.String(), ...errors } },
    },
    async (request, reply) => {
      const { version } = request.params;
      await requireVersion(app.db, version);
      const csv = entriesToCsv(await loadEntries(app.db, version));
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="lexicon-v${version}.csv"`)
        .header('cache-control', 'no-store')
        .send(csv);
    },
  );

  app.get(
    '/v1/lexicon/draft/entries',
    {
      onRequest: auth,
      schema: { querystring: LexiconEntryQuery, response: { 200: LexiconEntryListReply, ...errors } },
    },
    async (request) => {
      const draft = await versionWithStatus(app.db, 'draft');
      if (!draft) throw notFound('there is no draft (the first edit creates one)');
      return queryEntries(app.db, draft.version, request.query);
    },
  );

  app.put(
    '/v1/lexicon/draft/entries/:id',
    {
      onRequest: auth,
      schema: {
        params: LexiconEntryParams,
        body: LexiconEntry,
        response: { 200: LexiconEntry, 201: LexiconEntry, ...errors },
      },
    },
    async (request, reply) => {
      if (request.body.id !== request.params.id)
        throw badRequest('id_mismatch', 'the entry id in the body must equal the id in the path');
      const saved = await saveDraftEntry(app.db, actorOf(request), request.body);
      // 201: a new entry; 200: an entry of that id was replaced
      return reply.code(saved.created ? 201 : 200).send(request.body);
    },
  );

  app.delete(
    '/v1/lexicon/draft/entries/:id',
    {
      onRequest: auth,
      schema: {
        params: LexiconEntryParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await deleteDraftEntry(app.db, actorOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/lexicon/draft/import',
    {
      onRequest: auth,
      bodyLimit: IMPORT_BODY_LIMIT,
      schema: {
        body: LexiconImportRequest,
        response: { 200: LexiconImportReply, ...errors, 400: LexiconImportRefusal },
      },
    },
    async (request, reply) => {
      const parsed = entriesFromCsv(request.body.csv);
      if (parsed.errors.length > 0) {
        return reply.code(400).send({
          code: 'import_rejected',
          message: `${parsed.errors.length} line(s) of the file have errors; nothing was applied`,
          applied: 0,
          added: 0,
          changed: 0,
          removed: 0,
          errors: parsed.errors,
        });
      }
      return importIntoDraft(app.db, actorOf(request), parsed.entries, request.body.mode);
    },
  );

  app.delete(
    '/v1/lexicon/draft',
    {
      onRequest: auth,
      schema: { response: { 204: Type.Null(), ...errors } },
    },
    async (request, reply) => {
      const discarded = await discardDraft(app.db);
      if (discarded === null) throw notFound('there is no draft to discard');
      request.log.info({ version: discarded, actor: actorOf(request) }, 'lexicon draft discarded');
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/lexicon/diff',
    {
      onRequest: auth,
      schema: { querystring: LexiconDiffQuery, response: { 200: LexiconDiffReply, ...errors } },
    },
    async (request) => diffVersions(app.db, request.query.from, request.query.to),
  );

  app.post(
    '/v1/lexicon/draft/publish',
    {
      onRequest: auth,
      schema: {
        body: LexiconPublishRequest,
        response: {
          200: LexiconPublishReply,
          ...errors,
        },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const { note, rescan } = request.body;
      const published = await publishDraft(app.db, actor, note, async (tx, version) =>
        rescan ? queueRescan(tx, await checkRescan(tx, rescan, version), actor) : null,
      );
      // this replica switches now; the others within their refresh interval
      await app.lexicon
        .refresh()
        .catch((err: unknown) => request.log.warn({ err }, 'lexicon refresh failed'));
      request.log.info(
        { version: published.view.version, previous: published.previous, actor },
        'lexicon version published',
      );
      return { ...published.view, previous: published.previous, rescan: published.extra ?? null };
    },
  );

  app.post(
    '/v1/lexicon/test',
    {
      onRequest: auth,
      bodyLimit: TEST_BODY_LIMIT,
      schema: { body: LexiconTestRequest, response: { 200: LexiconTestReply, ...errors } },
    },
    async (request) => {
      const draft = request.body.draft === true;
      const lexicon = draft ? await app.lexicon.draft() : app.lexicon.published();
      if (!lexicon) {
        if (draft) throw notFound('there is no draft to test');
        throw new AppError(503, 'lexicon_not_loaded', 'no lexicon version is loaded yet; retry shortly');
      }
      return { lexiconVersion: lexicon.version, draft, hits: lexicon.scan(request.body.text) };
    },
  );

  app.post(
    '/v1/lexicon/rescans',
    {
      onRequest: auth,
      schema: { body: RescanRequest, response: { 202: RescanJobView, ...errors } },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const job = await queueRescan(app.db, await checkRescan(app.db, request.body), actor);
      request.log.info({ rescan: job.id, version: job.version, actor }, 'retroactive scan queued');
      return reply.code(202).send(job);
    },
  );

  app.get(
    '/v1/lexicon/rescans',
    { onRequest: auth, schema: { response: { 200: RescanJobListReply, ...errors } } },
    async () => ({ items: await listRescans(app.db) }),
  );

  app.get(
    '/v1/lexicon/rescans/:id',
    { onRequest: auth, schema: { params: RescanJobParams, response: { 200: RescanJobView, ...errors } } },
    async (request) => {
      const job = await getRescan(app.db, request.params.id);
      if (!job) throw notFound(`no rescan ${request.params.id}`);
      return job;
    },
  );

  app.post(
    '/v1/lexicon/rescans/:id/cancel',
    { onRequest: auth, schema: { params: RescanJobParams, response: { 200: RescanJobView, ...errors } } },
    async (request) => {
      const actor = actorOf(request);
      const { view } = await cancelRescan(app.db, request.params.id);
      request.log.info({ rescan: view.id, actor }, 'retroactive scan cancelled');
      return view;
    },
  );
};

export default fp(routes, { name: 'compliance-lexicon-routes', dependencies: ['compliance-lexicon'] });
