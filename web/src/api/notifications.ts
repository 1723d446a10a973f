import type {
  DeliveryStatus,
  NotificationChannelInput,
  NotificationChannelListReply,
  NotificationChannelView,
  NotificationDeliveryListReply,
  NotificationTestReply,
} from '@cz/contracts';
import { request } from './client';

/*
 * Notification channels of alerts (admin): generic webhook, WeCom group robot, e-mail through the
 * SMTP relay; and the deliveries that failed every retry (dead letters), to retry by hand.
 */

export function listChannels(): Promise<NotificationChannelListReply> {
  return request<NotificationChannelListReply>('GET', '/v1/notifications/channels');
}

export function createChannel(body: NotificationChannelInput): Promise<NotificationChannelView> {
  return request<NotificationChannelView>('POST', '/v1/notifications/channels', { body });
}

/** The URL is sealed at rest and never sent back: an update without `url` keeps the stored one. */
export function updateChannel(id: string, body: NotificationChannelInput): Promise<NotificationChannelView> {
  return request<NotificationChannelView>('PUT', `/v1/notifications/channels/${encodeURIComponent(id)}`, {
    body,
  });
}

export function deleteChannel(id: string): Promise<void> {
  return request<void>('DELETE', `/v1/notifications/channels/${encodeURIComponent(id)}`);
}

/** Sends a test notification now: 200 when the receiver took it, a 502 carries the reason. */
export function testChannel(id: string): Promise<NotificationTestReply> {
  return request<NotificationTestReply>('POST', `/v1/notifications/channels/${encodeURIComponent(id)}/test`, {
    silent: true,
  });
}

export function listDeliveries(status?: DeliveryStatus): Promise<NotificationDeliveryListReply> {
  return request<NotificationDeliveryListReply>('GET', '/v1/notifications/deliveries', {
    query: { status, limit: 100 },
  });
}

export function retryDelivery(id: string): Promise<unknown> {
  return request<unknown>('POST', `/v1/notifications/deliveries/${encodeURIComponent(id)}/retry`);
}
