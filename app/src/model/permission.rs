//! What each role may do: one permission per operation, and one table from role to
//! permissions. Handlers and server functions ask for a permission, never for a role.

use super::Role;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Permission {
    /// Dists, mirrors and builds.
    ReadRegistry,
    /// Devices, their versions and reports.
    ReadDevices,
    /// Rollouts, their history and buckets.
    ReadRollouts,
    /// The release stream of a dist that is not public, and the release console.
    ReadReleaseStream,
    ReadAudit,
    /// Create dists and set their report key.
    ManageDists,
    ManageMirrors,
    RegisterBuild,
    PublishBuild,
    WithdrawBuild,
    /// Start, pause, resume, halt, advance, roll back and resize rollouts.
    SteerRollout,
    RecordReleaseEvent,
    /// A dist's release settings: public or not, which states are stable and branched.
    ConfigureReleaseStream,
    ManageReleaseRules,
    ManageUsers,
    ManageTokens,
    ManageWebhooks,
}

impl Permission {
    pub const ALL: [Permission; 17] = [
        Permission::ReadRegistry,
        Permission::ReadDevices,
        Permission::ReadRollouts,
        Permission::ReadReleaseStream,
        Permission::ReadAudit,
        Permission::ManageDists,
        Permission::ManageMirrors,
        Permission::RegisterBuild,
        Permission::PublishBuild,
        Permission::WithdrawBuild,
        Permission::SteerRollout,
        Permission::RecordReleaseEvent,
        Permission::ConfigureReleaseStream,
        Permission::ManageReleaseRules,
        Permission::ManageUsers,
        Permission::ManageTokens,
        Permission::ManageWebhooks,
    ];
}

/// Every signed-in role reads builds, devices, rollouts and release streams.
const READ: &[Permission] = &[
    Permission::ReadRegistry,
    Permission::ReadDevices,
    Permission::ReadRollouts,
    Permission::ReadReleaseStream,
];

/// Release managers read, and decide what ships.
const RELEASE_MANAGER: &[Permission] = &[
    Permission::ReadRegistry,
    Permission::ReadDevices,
    Permission::ReadRollouts,
    Permission::ReadReleaseStream,
    Permission::RegisterBuild,
    Permission::PublishBuild,
    Permission::WithdrawBuild,
    Permission::SteerRollout,
    Permission::RecordReleaseEvent,
];

/// The table: what each role may do. Admins may do everything, so that no new permission can
/// lock the administrators out.
pub fn permissions_of(role: Role) -> &'static [Permission] {
    match role {
        Role::Admin => &Permission::ALL,
        Role::ReleaseManager => RELEASE_MANAGER,
        Role::Qa | Role::MeshOwner | Role::Viewer => READ,
    }
}

/// Who may call an endpoint, as its route declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone: devices, health, signing in, public pages.
    Anyone,
    /// Any signed-in user or token.
    SignedIn,
    /// Anyone when the dist named in the request is public; otherwise a caller holding the
    /// permission. The handler decides, since it depends on the dist.
    PublicDistOr(Permission),
    /// A caller whose role holds the permission.
    Needs(Permission),
}

impl Access {
    /// Whether a caller with this role (`None`: not signed in) gets past the route's check.
    /// For `PublicDistOr`, an anonymous caller is let through to the handler, which looks at
    /// the dist.
    pub fn admits(self, role: Option<Role>) -> bool {
        match (self, role) {
            (Access::Anyone, _) | (Access::PublicDistOr(_), None) => true,
            (_, None) => false,
            (Access::SignedIn, Some(_)) => true,
            (Access::PublicDistOr(p) | Access::Needs(p), Some(role)) => role.may(p),
        }
    }
}

impl Role {
    pub fn may(self, permission: Permission) -> bool {
        permissions_of(self).contains(&permission)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admins_may_do_everything() {
        for permission in Permission::ALL {
            assert!(Role::Admin.may(permission), "{permission:?}");
        }
    }

    #[test]
    fn every_role_reads_and_only_admins_read_the_audit_log() {
        for role in Role::ALL {
            assert!(role.may(Permission::ReadRegistry));
            assert!(role.may(Permission::ReadReleaseStream));
            assert_eq!(role.may(Permission::ReadAudit), role == Role::Admin);
        }
    }

    #[test]
    fn release_managers_decide_what_ships_but_manage_no_accounts() {
        let rm = Role::ReleaseManager;
        assert!(rm.may(Permission::RegisterBuild));
        assert!(rm.may(Permission::SteerRollout));
        assert!(rm.may(Permission::RecordReleaseEvent));
        assert!(!rm.may(Permission::ManageDists));
        assert!(!rm.may(Permission::ManageUsers));
        assert!(!rm.may(Permission::ManageReleaseRules));
    }

    #[test]
    fn qa_mesh_owners_and_viewers_only_read() {
        for role in [Role::Qa, Role::MeshOwner, Role::Viewer] {
            assert!(permissions_of(role).iter().all(|p| READ.contains(p)));
        }
    }

    #[test]
    fn a_route_needing_a_permission_admits_only_the_roles_holding_it() {
        let access = Access::Needs(Permission::SteerRollout);
        assert!(access.admits(Some(Role::ReleaseManager)));
        assert!(!access.admits(Some(Role::Viewer)));
        assert!(!access.admits(None));
    }

    #[test]
    fn a_public_dist_route_lets_anonymous_callers_through_to_the_handler() {
        let access = Access::PublicDistOr(Permission::ReadReleaseStream);
        assert!(access.admits(None));
        assert!(access.admits(Some(Role::Viewer)));
        assert!(Access::SignedIn.admits(Some(Role::Viewer)));
        assert!(!Access::SignedIn.admits(None));
        assert!(Access::Anyone.admits(None));
    }

    #[test]
    fn the_list_of_all_permissions_has_no_repeats() {
        let seen: std::collections::HashSet<_> = Permission::ALL.into_iter().collect();
        assert_eq!(seen.len(), Permission::ALL.len());
    }
}
