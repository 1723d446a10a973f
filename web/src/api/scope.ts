import type {
  DataScopeInput,
  DataScopeView,
  ProtectedEmployeeListReply,
  ProtectedEmployeeView,
  UserScopeListReply,
  UserScopeView,
} from '@cz/contracts';
import { request } from './client';

/*
 * Data scopes (REG-05): the caller's own scope (header), and for admins the users' scopes and the
 * protected-employee list. Every change is audited by the portal.
 */

export function fetchMyScope(): Promise<DataScopeView> {
  return request<DataScopeView>('GET', '/v1/auth/scope', { silent: true });
}

export function listUserScopes(): Promise<UserScopeListReply> {
  return request<UserScopeListReply>('GET', '/v1/admin/users');
}

export function setUserScope(username: string, body: DataScopeInput): Promise<UserScopeView> {
  return request<UserScopeView>('PUT', `/v1/admin/users/${encodeURIComponent(username)}/scope`, { body });
}

export function listProtected(): Promise<ProtectedEmployeeListReply> {
  return request<ProtectedEmployeeListReply>('GET', '/v1/admin/protected-employees');
}

const protectedPath = (corpId: string, userid: string) =>
  `/v1/admin/protected-employees/${encodeURIComponent(corpId)}/${encodeURIComponent(userid)}`;

export function addProtected(corpId: string, userid: string): Promise<ProtectedEmployeeView> {
  return request<ProtectedEmployeeView>('PUT', protectedPath(corpId, userid));
}

export function removeProtected(corpId: string, userid: string): Promise<void> {
  return request<void>('DELETE', protectedPath(corpId, userid));
}
