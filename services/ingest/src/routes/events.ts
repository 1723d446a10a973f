import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { TObject } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import {
  BehaviourEventBatch,
  BehaviourEventTypes,
  BehaviourEventVariants,
  ErrorReply,
  EventBatchReply,
  Topics,
  type ArchivedBehaviourEventV1,
  type BehaviourEvent,
  type EventBatchReply as EventBatchReplyType,
  type RecordProblem,
} from '@cz/contracts';
import {
  IndexPurposes,
  contentMacOf,
  eventArchiveId,
  externalUserIndex,
  phoneIndex,
  type OutgoingRecord,
} from '@cz/common';
import { assertCallerCorp } from '../corp-binding';
import { produceDurably, sealedRecord } from '../produce';

const Type400 = Type.Union([EventBatchReply, ErrorReply]);
const MAX_PROBLEMS = 20;

const checks = new Map<string, TypeCheck<TObject>>(
  Object.entries(BehaviourEventVariants).map(([type, schema]) => [
    type,
    TypeCompiler.Compile(schema as TObject),
  ]),
);

type Validation =
  { ok: true; event: BehaviourEvent } | { ok: false; eventId?: string; errors: RecordProblem[] };

/** Validates one record against the variant its `type` names, so errors point at the right field. */
function validateEvent(candidate: unknown): Validation {
  if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) {
    return { ok: false, errors: [{ path: '', message: 'event must be a JSON object' }] };
  }
  const record = candidate as Record<string, unknown>;
  const eventId = typeof record.eventId === 'string' ? record.eventId : undefined;
  const fail = (errors: RecordProblem[]): Validation =>
    eventId === undefined ? { ok: false, errors } : { ok: false, eventId, errors };
  const check = typeof record.type === 'string' ? checks.get(record.type) : undefined;
  if (!check) {
    return fail([{ path: '/type', message: `type must be one of ${BehaviourEventTypes.join(', ')}` }]);
  }
  const errors: RecordProblem[] = [];
  for (const error of check.Errors(candidate)) {
    if (!errors.some((e) => e.path === error.path)) errors.push({ path: error.path, message: error.message });
    if (errors.length >= MAX_PROBLEMS) break;
  }
  if (errors.length > 0) return fail(errors);
  return { ok: true, event: candidate as BehaviourEvent };
}

/**
 * `POST /v1/events`: a batch of behaviour events. Each record is validated on its own: invalid
 * ones come back with a reason per problem while valid neighbours are accepted (400 if anything
 * was rejected, else 202) — only after Kafka acknowledged them. Sealed onto `cz.event.v1`, keyed
 * by the customer (blind index) so one customer's events stay in order.
 */
const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/events',
    {
      onRequest: app.requireCaller('ingest.write'),
      schema: {
        body: BehaviourEventBatch,
        response: {
          202: EventBatchReply,
          400: Type400,
          401: ErrorReply,
          403: ErrorReply,
          413: ErrorReply,
          503: ErrorReply,
        },
      },
    },
    async (request, reply) => {
      const { corpId, events } = request.body;
      await assertCallerCorp(app, request, corpId, events.length);
      const receivedAt = Date.now();
      const result: EventBatchReplyType = { accepted: [], rejected: [] };
      const outgoing: OutgoingRecord[] = [];
      const seen = new Set<string>();

      for (const [index, candidate] of events.entries()) {
        const validation = validateEvent(candidate);
        if (!validation.ok) {
          const { errors } = validation;
          result.rejected.push(
            validation.eventId === undefined
              ? { index, errors }
              : { index, eventId: validation.eventId, errors },
          );
          continue;
        }
        const event = validation.event;
        const customer = 'customer' in event ? event.customer : undefined;
        const archived: ArchivedBehaviourEventV1 = {
          schema: 'cz.event.v1',
          id: eventArchiveId(corpId, event.eventId),
          corpId,
          event,
          receivedAt,
          contentMac: await contentMacOf(app.keys, IndexPurposes.eventContent, event),
        };
        if (customer?.externalUserId) {
          archived.customerIndex = await externalUserIndex(app.keys, customer.externalUserId);
        }
        if (customer?.phone) archived.phoneIndex = await phoneIndex(app.keys, customer.phone);
        result.accepted.push({ index, eventId: event.eventId, id: archived.id });
        // the same event twice in one batch is written once; a different event reusing an
        // eventId is written too and the archiver dead-letters the conflict (nothing dropped here)
        const dedupe = `${archived.id}:${archived.contentMac}`;
        if (seen.has(dedupe)) continue;
        seen.add(dedupe);
        outgoing.push(
          await sealedRecord(
            app.keys,
            archived.customerIndex ?? archived.phoneIndex ?? `staff:${event.staffId}`,
            archived,
            'cz.event.v1',
            corpId,
          ),
        );
      }

      const refusal = await produceDurably(
        app,
        request,
        Topics.events,
        outgoing,
        'the message bus did not acknowledge the batch; nothing from this request was accepted, retry later',
      );
      if (refusal) return reply.code(503).send(refusal);
      request.log.info(
        { corpId, accepted: result.accepted.length, rejected: result.rejected.length },
        'behaviour events ingested',
      );
      return reply.code(result.rejected.length > 0 ? 400 : 202).send(result);
    },
  );
};

export default routes;
