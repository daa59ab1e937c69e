//! `settings!`: one declaration per setting. A field's doc comment is its flag's help, its name
//! is its key in the scenario file's table (and its flag's id, unless `as "id"` gives one: two
//! tables may share a key, never an id), `= DEFAULT` is its default (shown in the help, the
//! reports and `scenario check`, applied by its getter), and its `#[arg]` says how the flag is
//! spelled. The macro writes the rest: the `Option` that says "not given", the flag's and the
//! file's parser, the merge (flags over the file), the getter with the default, and the
//! entries every report and `scenario check` show.

/// A table of settings. Fields under `file only` come from the scenario file alone (steps,
/// secrets, per-phase SLOs: structured, checked by `scenario`), and merge as the file says.
macro_rules! settings {
    (
        $(#[$meta:meta])*
        pub struct $name:ident in $table:literal {
            $(
                $(#[$fmeta:meta])*
                $field:ident $(as $id:literal)?: $ty:ty $(= $default:expr)?
            ),* $(,)?
        }
        $(file only {
            $( $(#[$xmeta:meta])* $xfield:ident: $xty:ty ),* $(,)?
        })?
    ) => {
        #[derive(Clone, Debug, Default, clap::Args, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        $(#[$meta])*
        pub struct $name {
            $(
                $(#[$fmeta])*
                $(#[arg(id = $id)])?
                #[arg(value_parser = $crate::config::value::parser::<$ty>())]
                #[serde(default, deserialize_with = "crate::config::value::from_toml")]
                pub $field: Option<$ty>,
            )*
            $($(
                $(#[$xmeta])*
                #[arg(skip)]
                #[serde(default)]
                pub $xfield: $xty,
            )*)?
        }

        impl $name {
            /// These settings over `under`'s: what `self` says wins. The file-only parts are
            /// `under`'s (the file's): no flag sets them.
            pub fn over(self, under: $name) -> $name {
                $name {
                    $( $field: self.$field.or(under.$field), )*
                    $($( $xfield: under.$xfield, )*)?
                }
            }

            $($(
                #[doc = concat!("`", $table, ".", stringify!($field), "`, its default applied.")]
                pub fn $field(&self) -> $ty {
                    self.$field.clone().unwrap_or_else(|| $default)
                }
            )?)*

            /// Every setting of the table: its key, flag id, value given and default.
            pub fn entries(&self, out: &mut Vec<$crate::config::Entry>) {
                use $crate::config::value::Setting;
                $(
                    out.push($crate::config::Entry {
                        key: concat!($table, ".", stringify!($field)),
                        id: settings!(@id $field $($id)?),
                        given: self.$field.as_ref().map(Setting::show),
                        default: settings!(@default $($default)?).map(|d: $ty| Setting::show(&d)),
                    });
                )*
            }
        }
    };
    (@id $field:ident) => { stringify!($field) };
    (@id $field:ident $id:literal) => { $id };
    (@default) => { None };
    (@default $default:expr) => { Some($default) };
}

pub(crate) use settings;
