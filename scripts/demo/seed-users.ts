/** Creates (or resets) the demo accounts of the local stack. Never run against a production database. */
import { createMainDataSource } from '@cz/common';
import { upsertUser } from '../../services/portal/src/users';

export const demoUsers = [
  { username: 'auditor', displayName: '审计员 张敏', roles: ['auditor' as const], password: 'Auditor#2026' },
  { username: 'risk', displayName: '风险官 李娜', roles: ['risk_officer' as const], password: 'Risk#2026' },
  { username: 'admin', displayName: '系统管理员', roles: ['admin' as const], password: 'Admin#2026' },
];

const dataSource = createMainDataSource();
await dataSource.initialize();
try {
  for (const user of demoUsers) await upsertUser(dataSource, user);
  console.log(`demo users ready: ${demoUsers.map((u) => u.username).join(', ')}`);
} finally {
  await dataSource.destroy();
}
