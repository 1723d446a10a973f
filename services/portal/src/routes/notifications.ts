import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  ErrorReply,
  NotificationChannelInput,
  NotificationChannelListReply,
  NotificationChannelParams,
  NotificationChannelView,
  NotificationDeliveryListReply,
  NotificationDeliveryParams,
  NotificationDeliveryQuery,
  NotificationDeliveryView,
  NotificationTestReply,
  SlaPolicy,
} from '@cz/contracts';
import { AppError, unauthorized } from '@cz/common';
import { appendAudit } from '../audit';
import {
  createChannel,
  deleteChannel,
  getSlaRules,
  listChannels,
  listDeliveries,
  replaceSlaRules,
  retryDelivery,
  testChannel,
  updateChannel,
} from '../notifications/channels';

export interface NotificationRouteOptions {
  /** how long a channel test waits for the compliance service's sender (default 10 s) */
  testWaitMs?: number;
}

const errors = { 400: ErrorReply, 401: ErrorReply, 403: ErrorReply, 404: ErrorReply, 409: ErrorReply };

/** What the audit trail keeps of a channel: never its URL's path or its recipients (sealed). */
const auditView = (view: NotificationChannelView) => ({
  name: view.name,
  kind: view.kind,
  target: view.kind === 'email' ? `${view.target.split(', ').length} recipient(s)` : view.target,
  minSeverity: view.minSeverity,
  categories: view.categories,
  onEscalation: view.onEscalation,
  enabled: view.enabled,
});

/**
 * Alert notifications and SLA rules (admins): notification channels (webhook, WeCom group robot,
 * e-mail through the SMTP relay) with a test that goes through the compliance service's sender,
 * the deliveries (dead letters retried by hand), and `GET`/`PUT /v1/alerts/sla` (the SLA hours by
 * category and severity; the rest of /v1/alerts is routes/alerts.ts). Every change is audited.
 */
const routes: FastifyPluginAsyncTypebox<NotificationRouteOptions> = async (app, options) => {
  const testWaitMs = options.testWaitMs ?? 10000;
  const admin = { preHandler: app.requireUser('admin') };
  const actorOf = (user: { username: string } | null) => {
    if (!user) throw unauthorized();
    return user.username;
  };

  app.get(
    '/v1/notifications/channels',
    { ...admin, schema: { response: { 200: NotificationChannelListReply, ...errors } } },
    async () => ({ items: await listChannels(app.db, app.keys) }),
  );

  app.post(
    '/v1/notifications/channels',
    {
      ...admin,
      schema: { body: NotificationChannelInput, response: { 201: NotificationChannelView, ...errors } },
    },
    async (request, reply) => {
      const actor = actorOf(request.user);
      const view = await createChannel(app.db, app.keys, request.body, actor);
      await appendAudit(app.db, {
        actor,
        action: 'notification_channel.create',
        target: `notification_channel:${view.id}`,
        detail: auditView(view),
      });
      return reply.code(201).send(view);
    },
  );

  app.put(
    '/v1/notifications/channels/:id',
    {
      ...admin,
      schema: {
        params: NotificationChannelParams,
        body: NotificationChannelInput,
        response: { 200: NotificationChannelView, ...errors },
      },
    },
    async (request) => {
      const actor = actorOf(request.user);
      const { before, after, targetChanged } = await updateChannel(
        app.db,
        app.keys,
        request.params.id,
        request.body,
      );
      await appendAudit(app.db, {
        actor,
        action: 'notification_channel.update',
        target: `notification_channel:${after.id}`,
        detail: { before: auditView(before), after: auditView(after), targetChanged },
      });
      return after;
    },
  );

  app.delete(
    '/v1/notifications/channels/:id',
    { ...admin, schema: { params: NotificationChannelParams, response: { 204: Type.Null(), ...errors } } },
    async (request, reply) => {
      const actor = actorOf(request.user);
      const before = await deleteChannel(app.db, app.keys, request.params.id);
      await appendAudit(app.db, {
        actor,
        action: 'notification_channel.delete',
        target: `notification_channel:${before.id}`,
        detail: auditView(before),
      });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/notifications/channels/:id/test',
    {
      ...admin,
      schema: {
        params: NotificationChannelParams,
        response: { 200: NotificationTestReply, 502: ErrorReply, 504: ErrorReply, ...errors },
      },
    },
    async (request) => {
      const actor = actorOf(request.user);
      const { id } = request.params;
      const outcome = await testChannel(app.db, id, testWaitMs);
      await appendAudit(app.db, {
        actor,
        action: 'notification_channel.test',
        target: `notification_channel:${id}`,
        detail: { status: outcome.status, error: outcome.error },
      });
      if (outcome.status === 'sent') return { ok: true, status: outcome.status, error: null };
      if (outcome.status === 'pending')
        throw new AppError(504, 'notification_test_timeout', outcome.error ?? '');
      throw new AppError(
        502,
        'notification_test_failed',
        outcome.error ?? 'the receiver did not take the test',
      );
    },
  );

  app.get(
    '/v1/notifications/deliveries',
    {
      ...admin,
      schema: {
        querystring: NotificationDeliveryQuery,
        response: { 200: NotificationDeliveryListReply, ...errors },
      },
    },
    async (request) => ({ items: await listDeliveries(app.db, request.query) }),
  );

  app.post(
    '/v1/notifications/deliveries/:id/retry',
    {
      ...admin,
      schema: { params: NotificationDeliveryParams, response: { 200: NotificationDeliveryView, ...errors } },
    },
    async (request) => {
      const actor = actorOf(request.user);
      const view = await retryDelivery(app.db, request.params.id);
      await appendAudit(app.db, {
        actor,
        action: 'notification_delivery.retry',
        target: `notification_delivery:${view.id}`,
        detail: { channelId: view.channelId, alertId: view.alertId, event: view.event },
      });
      return view;
    },
  );

  app.get('/v1/alerts/sla', { ...admin, schema: { response: { 200: SlaPolicy, ...errors } } }, async () => ({
    rules: await getSlaRules(app.db),
  }));

  app.put(
    '/v1/alerts/sla',
    { ...admin, schema: { body: SlaPolicy, response: { 200: SlaPolicy, ...errors } } },
    async (request) => {
      const actor = actorOf(request.user);
      const before = await getSlaRules(app.db);
      await replaceSlaRules(app.db, request.body.rules, actor);
      const after = await getSlaRules(app.db);
      await appendAudit(app.db, {
        actor,
        action: 'alerts.sla.set',
        target: 'compliance_sla_rule',
        detail: { before, after },
      });
      return { rules: after };
    },
  );
};

export default routes;
