import type {
  ReviewDecisionRequest,
  ReviewItemView,
  ReviewListReply,
  ReviewQuery,
  ReviewSamplingConfig,
} from '@cz/contracts';
import { request } from './client';

/* 抽检复核: conversation-days to review (alerted or sampled), decisions, and the sampling settings (admin). */

export function listReviews(query: ReviewQuery, signal?: AbortSignal): Promise<ReviewListReply> {
  return request<ReviewListReply>('GET', '/v1/reviews', {
    query: { ...query },
    silent: true,
    ...(signal ? { signal } : {}),
  });
}

export function decideReview(id: string, body: ReviewDecisionRequest): Promise<ReviewItemView> {
  return request<ReviewItemView>('POST', `/v1/reviews/${encodeURIComponent(id)}/decision`, { body });
}

export function getSamplingConfig(): Promise<ReviewSamplingConfig> {
  return request<ReviewSamplingConfig>('GET', '/v1/reviews/config');
}

export function putSamplingConfig(body: ReviewSamplingConfig): Promise<ReviewSamplingConfig> {
  return request<ReviewSamplingConfig>('PUT', '/v1/reviews/config', { body });
}
