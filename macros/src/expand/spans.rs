//! Span helpers: generated code that names a field's value is spanned at the
//! field's type, so that rustc reports an error about the value there.

use awesome_audit_log_codegen::ast::Field;
use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote};

/// The first and last token of a field's type. Generated code that names
/// the field's value starts at the first and ends with the field's name at
/// the last, so rustc reports an error about the value at the whole type
/// (`Vec<Dimensions>`, not `Vec`) without needing `Span::join`.
pub(super) struct TypeSpans {
    pub(super) first: Span,
    pub(super) last: Span,
}

impl TypeSpans {
    pub(super) fn of(field: &Field) -> Self {
        let mut tokens = field.ty.to_token_stream().into_iter();
        let first = tokens.next().map_or(field.span, |token| token.span());
        let last = tokens.last().map_or(first, |token| token.span());
        TypeSpans { first, last }
    }

    /// `private::name` (`name` may be `Trait::method`) spanning the whole
    /// type, for a callee that rustc blames when it cannot blame one argument.
    pub(super) fn path(&self, private: &TokenStream, name: &str) -> TokenStream {
        let mut segments: Vec<_> = name
            .split("::")
            .map(|segment| syn::Ident::new(segment, self.first))
            .collect();
        if let Some(last) = segments.last_mut() {
            last.set_span(self.last);
        }
        let private = respan(private, self.first);
        quote!(#private #(:: #segments)*)
    }
}

/// `tokens` with every span set to `span`, so that an error about them is
/// reported at `span` only (a field's type, say) and not partly at the
/// `#[audited]` attribute.
pub(super) fn respan(tokens: impl ToTokens, span: Span) -> TokenStream {
    tokens
        .into_token_stream()
        .into_iter()
        .map(|token| match token {
            TokenTree::Group(group) => {
                let mut respanned = Group::new(group.delimiter(), respan(group.stream(), span));
                respanned.set_span(span);
                TokenTree::Group(respanned)
            }
            mut other => {
                other.set_span(span);
                other
            }
        })
        .collect()
}
