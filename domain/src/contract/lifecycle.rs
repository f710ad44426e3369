//! The lifecycle of a transfer contract:
//! `draft -> signed -> registered (when registration applies) -> in_effect -> completed | terminated`,
//! and `cancelled` from `draft` or `signed`.
//!
//! A contract that must be registered (Law 07/2017/QH14 Art. 31 cl. 1) takes effect only once
//! registered (Art. 24: a registered contract takes effect as agreed, or from the certificate's
//! date); one that need not may still be registered on request (cl. 2).

word_enum!(
    ContractStatus {
        Draft => "draft", "Bản nháp", "Draft",
        Signed => "signed", "Đã ký", "Signed",
        Registered => "registered", "Đã đăng ký", "Registered",
        InEffect => "in_effect", "Đang có hiệu lực", "In effect",
        Completed => "completed", "Đã hoàn thành", "Completed",
        Terminated => "terminated", "Đã chấm dứt", "Terminated",
        Cancelled => "cancelled", "Đã hủy", "Cancelled",
    }
);

word_enum!(
    /// A move asked for through `POST /v1/contracts/{id}/{action}` (`take-effect` in the path).
    ContractAction {
        Sign => "sign", "Ký hợp đồng", "Sign",
        Register => "register", "Ghi nhận đăng ký", "Record the registration",
        TakeEffect => "take_effect", "Bắt đầu hiệu lực", "Take effect",
        Complete => "complete", "Hoàn thành", "Complete",
        Terminate => "terminate", "Chấm dứt", "Terminate",
        Cancel => "cancel", "Hủy", "Cancel",
    }
);

/// Why a move is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoveRefused {
    #[error("a contract that is {from} cannot {action}")]
    Illegal { from: ContractStatus, action: ContractAction },
    /// The contract must be registered before it takes effect.
    #[error("the contract must be registered before it takes effect")]
    RegistrationRequired,
    /// Its content is no longer edited: registered, in effect or over.
    #[error("a contract that is {0} is no longer edited")]
    Locked(ContractStatus),
}

impl ContractStatus {
    /// The status `action` leads to; `registration_mandatory` says whether the contract must be
    /// registered before it takes effect.
    pub fn after(self, action: ContractAction, registration_mandatory: bool) -> Result<ContractStatus, MoveRefused> {
        use ContractAction as A;
        use ContractStatus as S;
        match (self, action) {
            (S::Draft, A::Sign) => Ok(S::Signed),
            (S::Signed, A::Register) => Ok(S::Registered),
            (S::Signed, A::TakeEffect) if registration_mandatory => Err(MoveRefused::RegistrationRequired),
            (S::Signed | S::Registered, A::TakeEffect) => Ok(S::InEffect),
            (S::InEffect, A::Complete) => Ok(S::Completed),
            (S::InEffect, A::Terminate) => Ok(S::Terminated),
            (S::Draft | S::Signed, A::Cancel) => Ok(S::Cancelled),
            (from, action) => Err(MoveRefused::Illegal { from, action }),
        }
    }

    /// The moves allowed from this status for a contract with this duty.
    pub fn allowed_actions(self, registration_mandatory: bool) -> Vec<ContractAction> {
        ContractAction::ALL.iter().copied().filter(|a| self.after(*a, registration_mandatory).is_ok()).collect()
    }

    /// Whether the content may still be edited: until the contract is registered or takes effect.
    pub fn is_editable(self) -> bool {
        matches!(self, ContractStatus::Draft | ContractStatus::Signed)
    }

    /// Whether the contract was concluded (signed, whatever came after), so statistics count it.
    pub fn is_concluded(self) -> bool {
        !matches!(self, ContractStatus::Draft | ContractStatus::Cancelled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pair_of_status_and_action_follows_the_machine() {
        use ContractAction as A;
        use ContractStatus as S;
        let allowed = [
            (S::Draft, A::Sign, S::Signed),
            (S::Signed, A::Register, S::Registered),
            (S::Signed, A::TakeEffect, S::InEffect),
            (S::Registered, A::TakeEffect, S::InEffect),
            (S::InEffect, A::Complete, S::Completed),
            (S::InEffect, A::Terminate, S::Terminated),
            (S::Draft, A::Cancel, S::Cancelled),
            (S::Signed, A::Cancel, S::Cancelled),
        ];
        for mandatory in [false, true] {
            for from in S::ALL {
                for action in A::ALL {
                    let expected = allowed
                        .iter()
                        .find(|(f, a, _)| f == from && a == action)
                        .filter(|(f, a, _)| !(mandatory && *f == S::Signed && *a == A::TakeEffect))
                        .map(|(_, _, to)| *to);
                    assert_eq!(from.after(*action, mandatory).ok(), expected, "{from} + {action}, {mandatory}");
                }
            }
        }
    }

    #[test]
    fn a_contract_that_must_be_registered_takes_effect_only_once_registered() {
        assert_eq!(
            ContractStatus::Signed.after(ContractAction::TakeEffect, true),
            Err(MoveRefused::RegistrationRequired)
        );
        assert_eq!(ContractStatus::Registered.after(ContractAction::TakeEffect, true), Ok(ContractStatus::InEffect));
        assert_eq!(ContractStatus::Signed.allowed_actions(true), [ContractAction::Register, ContractAction::Cancel]);
        assert_eq!(
            ContractStatus::Signed.allowed_actions(false),
            [ContractAction::Register, ContractAction::TakeEffect, ContractAction::Cancel]
        );
    }

    #[test]
    fn terminal_statuses_allow_nothing_and_only_drafts_and_signed_contracts_are_edited() {
        for status in [ContractStatus::Completed, ContractStatus::Terminated, ContractStatus::Cancelled] {
            assert!(status.allowed_actions(false).is_empty(), "{status}");
            assert!(!status.is_editable());
        }
        assert!(ContractStatus::Draft.is_editable() && ContractStatus::Signed.is_editable());
        assert!(!ContractStatus::Registered.is_editable());
        assert!(!ContractStatus::Draft.is_concluded() && ContractStatus::Terminated.is_concluded());
    }
}
