//! Which [`Render`] a field's Rust type has, read from the type as written
//! (the macro sees no type aliases): the types whose serde JSON a trigger
//! can write identically from the column.

use syn::{GenericArgument, PathArguments, Type};

use super::Render;

/// The rendering of `ty` and whether it is an `Option`; `None` when a
/// trigger cannot write its JSON (floats, whose shortest form databases
/// write differently; collections; types of the user's own).
///
/// ```
/// use awesome_audit_log_codegen::trigger::{Render, classify::render_of};
///
/// let ty: syn::Type = syn::parse_quote!(Option<chrono::DateTime<chrono::Utc>>);
/// assert_eq!(render_of(&ty), Some(Render::DateTimeUtc));
/// let ty: syn::Type = syn::parse_quote!(f64);
/// assert_eq!(render_of(&ty), None);
/// ```
pub fn render_of(ty: &Type) -> Option<Render> {
    let (name, args) = last_segment(ty)?;
    if name == "Option" {
        let inner = single_type_arg(args)?;
        // `Option<Option<T>>` writes `null` for both `None` and
        // `Some(None)`; the column cannot tell them apart either, but keep
        // to one level.
        return match last_segment(inner) {
            Some((inner_name, _)) if inner_name == "Option" => None,
            _ => render_of(inner),
        };
    }
    let render = match name.as_str() {
        "bool" => Render::Bool,
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" => Render::Int,
        "String" => Render::Text,
        "Uuid" => Render::Uuid,
        "NaiveDate" => Render::Date,
        "DateTime" => match single_type_arg(args).and_then(last_segment) {
            Some((zone, _)) if zone == "Utc" => Render::DateTimeUtc,
            _ => return None,
        },
        "Value" => Render::Json,
        _ => return None,
    };
    (matches!(args, PathArguments::None) || render == Render::DateTimeUtc).then_some(render)
}

fn last_segment(ty: &Type) -> Option<(String, &PathArguments)> {
    match ty {
        Type::Path(path) if path.qself.is_none() => {
            let segment = path.path.segments.last()?;
            Some((segment.ident.to_string(), &segment.arguments))
        }
        Type::Group(group) => last_segment(&group.elem),
        Type::Paren(paren) => last_segment(&paren.elem),
        _ => None,
    }
}

fn single_type_arg(args: &PathArguments) -> Option<&Type> {
    let PathArguments::AngleBracketed(args) = args else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    });
    let first = types.next()?;
    types.next().is_none().then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(ty: Type) -> Option<Render> {
        render_of(&ty)
    }

    #[test]
    fn types_with_a_rendering() {
        use syn::parse_quote as q;
        assert_eq!(render(q!(bool)), Some(Render::Bool));
        assert_eq!(render(q!(i64)), Some(Render::Int));
        assert_eq!(render(q!(u8)), Some(Render::Int));
        assert_eq!(render(q!(std::string::String)), Some(Render::Text));
        assert_eq!(render(q!(Option<String>)), Some(Render::Text));
        assert_eq!(render(q!(uuid::Uuid)), Some(Render::Uuid));
        assert_eq!(render(q!(chrono::NaiveDate)), Some(Render::Date));
        assert_eq!(render(q!(DateTime<Utc>)), Some(Render::DateTimeUtc));
        assert_eq!(render(q!(serde_json::Value)), Some(Render::Json));
    }

    #[test]
    fn types_without_one() {
        use syn::parse_quote as q;
        assert_eq!(render(q!(f64)), None);
        assert_eq!(render(q!(f32)), None);
        assert_eq!(render(q!(Vec<u8>)), None);
        assert_eq!(render(q!(Option<Option<i32>>)), None);
        assert_eq!(render(q!(DateTime<FixedOffset>)), None);
        assert_eq!(render(q!(chrono::NaiveDateTime)), None);
        assert_eq!(render(q!(&'static str)), None);
        assert_eq!(render(q!(Money)), None);
        assert_eq!(render(q!(i128)), None);
        assert_eq!(render(q!(String<X>)), None);
    }
}
