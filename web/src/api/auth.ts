import type { CurrentUser, LoginReply, LoginRequest } from '@cz/contracts';
import { request } from './client';

/** 401 here means wrong username or password: show the server's reason, do not redirect. */
export function login(body: LoginRequest): Promise<LoginReply> {
  return request<LoginReply>('POST', '/v1/auth/login', { body, redirectOn401: false });
}

export function fetchCurrentUser(): Promise<CurrentUser> {
  return request<CurrentUser>('GET', '/v1/auth/me');
}

/** Best effort: the local session is cleared whatever the server answers. */
export function logout(): Promise<void> {
  return request<void>('POST', '/v1/auth/logout', { redirectOn401: false, silent: true });
}
