//! The identifiers callers choose for orgs, agents, shifts, time off and tickets. Each is a
//! string that passed [`check_id`](super::validation::check_id)'s rule, and nothing outside its
//! constructor can build one that did not, so a value holding one needs no second check.

use std::borrow::Borrow;
use std::fmt;

use super::validation::{InvalidId, Violations};

// One definition for the five identifier types: they share their rule, so they share their code.
// It comes first because a macro is only known below its definition.
macro_rules! checked_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        /// Ordered by the bytes of the identifier, as listings and pages are.
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// The identifier, when it follows the rule every identifier follows.
            pub fn new(id: String) -> Result<$name, InvalidId> {
                match InvalidId::of(&id) {
                    Some(problem) => Err(problem),
                    None => Ok($name(id)),
                }
            }

            /// The identifier, or `None` with its violation recorded under `field`, worded as
            /// [`check_id`](super::validation::check_id) words it.
            pub fn check(violations: &mut Violations, field: &str, id: String) -> Option<$name> {
                violations.check(field, $name::new(id))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        // Debug writes the identifier as a quoted string, as it was written before it had a type
        // of its own, so messages and log lines that quote an identifier read the same.
        impl fmt::Debug for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, formatter)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(&self.0)
            }
        }

        // Maps keyed by an identifier are looked up by `&str`; `Borrow` requires the same order
        // and hash as the string's, which the derived impls over the one field give.
        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        // Tests write identifiers as literals; the conversion still applies the rule, and a
        // literal that breaks it fails the test that wrote it.
        #[cfg(test)]
        impl From<&str> for $name {
            fn from(id: &str) -> $name {
                $name::new(id.to_owned()).unwrap_or_else(|problem| panic!("{id:?} {problem}"))
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

checked_id! {
    /// The identifier of an org.
    OrgId
}
checked_id! {
    /// The identifier of an agent.
    AgentId
}
checked_id! {
    /// The identifier of a shift, unique across agents.
    ShiftId
}
checked_id! {
    /// The identifier of a period of time off, unique across agents.
    TimeOffId
}
checked_id! {
    /// The identifier of a ticket, chosen by the ticket system.
    TicketId
}

#[cfg(test)]
mod tests;
