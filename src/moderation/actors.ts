/** Who may act on whom: staff act only on people of a lower role, and nobody on themselves. */
import { ROLES, type Viewer } from '../accounts/users.js';
import type { Role } from '../db/schema.js';

/** Why `actor` may not moderate `target` (their account or their content), or null when they may. */
export function staffActionProblem(actor: Viewer, target: { id: number; role: Role }): string | null {
  if (actor.id === target.id) return 'Staff cannot moderate themselves; ask another moderator or an admin.';
  if (ROLES.indexOf(target.role) >= ROLES.indexOf(actor.role)) {
    return `A ${actor.role} cannot act on a ${target.role}: only someone of a higher role can.`;
  }
  return null;
}
