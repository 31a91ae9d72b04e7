//! An enum that lists its variants: [`listed!`] declares the enum and an
//! `ALL` constant with every variant in declaration order, from one list,
//! so that the contract (and anything else that goes through them all)
//! cannot miss one.

/// Declares a fieldless enum and `ALL`, every variant in order.
macro_rules! listed {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $($(#[$variant_meta])* $variant),*
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
        }
    };
}

pub(crate) use listed;
