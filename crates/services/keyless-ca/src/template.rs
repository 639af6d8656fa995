//! The small template language of CI issuer metadata.
//!
//! Fulcio renders SANs and extensions with Go `text/template` and
//! `missingkey=error`. We support the subset its configurations use:
//! - a string without `{{` is a claim name, replaced by that claim's value;
//! - `{{ .claim }}` inserts a claim (claim names may contain `.`, `/`, `-`,
//!   as CircleCI's `oidc.circleci.com/project-id` does);
//! - `{{ if eq .claim "literal" }}…{{ else }}…{{ end }}` chooses a branch.
//!
//! A claim that is missing is a hard error (`ciprovider/principal.go`):
//! rendering never substitutes an empty string.

use thiserror::Error;

/// Why a template does not parse.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TemplateError {
    #[error("unbalanced }}}}")]
    Unbalanced,
    #[error("empty template")]
    Empty,
    #[error("unterminated {{{{")]
    Unterminated,
    #[error("malformed if: {0:?}")]
    MalformedIf(String),
    #[error("if eq needs .claim first: {0:?}")]
    IfNeedsClaim(String),
    #[error("if eq needs a \"quoted\" literal: {0:?}")]
    IfNeedsLiteral(String),
    #[error("unsupported action {{{{{0}}}}}")]
    UnsupportedAction(String),
    #[error("else without if")]
    ElseWithoutIf,
    #[error("two else in one if")]
    TwoElse,
    #[error("end without if")]
    EndWithoutIf,
    #[error("if without end")]
    IfWithoutEnd,
}

/// Rendering needed a claim the token does not have (never replaced by an
/// empty string): its name.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("missing claim {0}")]
pub struct MissingClaim(pub String);

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    nodes: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Text(String),
    Claim(String),
    IfEq {
        claim: String,
        literal: String,
        then: Vec<Node>,
        otherwise: Vec<Node>,
    },
}

/// An `if` being parsed: the nodes before it, its then-branch once `else`
/// is seen, and its condition.
type OpenIf = (Vec<Node>, Option<Vec<Node>>, String, String);

enum Action {
    Claim(String),
    If(String, String),
    Else,
    End,
}

fn parse_action(inner: &str) -> Result<Action, TemplateError> {
    let s = inner.trim();
    if s == "else" {
        return Ok(Action::Else);
    }
    if s == "end" {
        return Ok(Action::End);
    }
    if let Some(rest) = s.strip_prefix("if eq ") {
        let rest = rest.trim();
        let (claim, lit) = rest
            .split_once(char::is_whitespace)
            .ok_or_else(|| TemplateError::MalformedIf(s.into()))?;
        let claim = claim
            .strip_prefix('.')
            .filter(|c| !c.is_empty())
            .ok_or_else(|| TemplateError::IfNeedsClaim(s.into()))?;
        let lit = lit
            .trim()
            .strip_prefix('"')
            .and_then(|l| l.strip_suffix('"'))
            .ok_or_else(|| TemplateError::IfNeedsLiteral(s.into()))?;
        return Ok(Action::If(claim.to_string(), lit.to_string()));
    }
    match s.strip_prefix('.') {
        Some(c) if !c.is_empty() && !c.contains(char::is_whitespace) => Ok(Action::Claim(c.into())),
        _ => Err(TemplateError::UnsupportedAction(s.into())),
    }
}

impl Template {
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        if !text.contains("{{") {
            if text.contains("}}") {
                return Err(TemplateError::Unbalanced);
            }
            if text.trim().is_empty() {
                return Err(TemplateError::Empty);
            }
            return Ok(Self {
                nodes: vec![Node::Claim(text.trim().to_string())],
            });
        }
        let mut rest = text;
        let mut stack: Vec<OpenIf> = Vec::new();
        let mut current: Vec<Node> = Vec::new();
        while !rest.is_empty() {
            match rest.find("{{") {
                None => {
                    if rest.contains("}}") {
                        return Err(TemplateError::Unbalanced);
                    }
                    current.push(Node::Text(rest.to_string()));
                    rest = "";
                }
                Some(i) => {
                    let (text, after) = rest.split_at(i);
                    if text.contains("}}") {
                        return Err(TemplateError::Unbalanced);
                    }
                    if !text.is_empty() {
                        current.push(Node::Text(text.to_string()));
                    }
                    let after = &after[2..];
                    let end = after.find("}}").ok_or(TemplateError::Unterminated)?;
                    let action = parse_action(&after[..end])?;
                    rest = &after[end + 2..];
                    match action {
                        Action::Claim(c) => current.push(Node::Claim(c)),
                        Action::If(claim, literal) => {
                            stack.push((std::mem::take(&mut current), None, claim, literal));
                        }
                        Action::Else => {
                            let top = stack.last_mut().ok_or(TemplateError::ElseWithoutIf)?;
                            if top.1.is_some() {
                                return Err(TemplateError::TwoElse);
                            }
                            top.1 = Some(std::mem::take(&mut current));
                        }
                        Action::End => {
                            let (outer, then_branch, claim, literal) =
                                stack.pop().ok_or(TemplateError::EndWithoutIf)?;
                            let body = std::mem::replace(&mut current, outer);
                            let (then, otherwise) = match then_branch {
                                Some(then) => (then, body),
                                None => (body, Vec::new()),
                            };
                            current.push(Node::IfEq {
                                claim,
                                literal,
                                then,
                                otherwise,
                            });
                        }
                    }
                }
            }
        }
        if !stack.is_empty() {
            return Err(TemplateError::IfWithoutEnd);
        }
        Ok(Self { nodes: current })
    }

    /// Render with `lookup`; the error names the first missing claim.
    pub fn render(&self, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, MissingClaim> {
        let mut out = String::new();
        render_nodes(&self.nodes, lookup, &mut out)?;
        Ok(out)
    }
}

fn render_nodes(
    nodes: &[Node],
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut String,
) -> Result<(), MissingClaim> {
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Claim(c) => out.push_str(&lookup(c).ok_or_else(|| MissingClaim(c.clone()))?),
            Node::IfEq {
                claim,
                literal,
                then,
                otherwise,
            } => {
                let v = lookup(claim).ok_or_else(|| MissingClaim(claim.clone()))?;
                render_nodes(if &v == literal { then } else { otherwise }, lookup, out)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(k: &str) -> Option<String> {
        match k {
            "url" => Some("https://gitlab.com".into()),
            "ref" => Some("main".into()),
            "ref_type" => Some("branch".into()),
            "oidc.circleci.com/org-id" => Some("o1".into()),
            _ => None,
        }
    }

    #[test]
    fn renders_subset() {
        let t = Template::parse("{{ .url }}/x/{{.ref}}").unwrap();
        assert_eq!(t.render(&claims).unwrap(), "https://gitlab.com/x/main");
        let t = Template::parse("ref").unwrap();
        assert_eq!(t.render(&claims).unwrap(), "main");
        let t = Template::parse(
            "refs/{{ if eq .ref_type \"branch\" }}heads/{{ else }}tags/{{ end }}{{ .ref }}",
        )
        .unwrap();
        assert_eq!(t.render(&claims).unwrap(), "refs/heads/main");
        let t = Template::parse("c/{{ .oidc.circleci.com/org-id }}").unwrap();
        assert_eq!(t.render(&claims).unwrap(), "c/o1");
    }

    #[test]
    fn missing_claim_is_an_error() {
        let t = Template::parse("{{ .url }}/{{ .job_workflow_ref }}").unwrap();
        assert_eq!(
            t.render(&claims),
            Err(MissingClaim("job_workflow_ref".to_string()))
        );
        assert_eq!(Template::parse("{{ .a "), Err(TemplateError::Unterminated));
        assert_eq!(
            Template::parse("{{ if eq .a \"b\" }}x"),
            Err(TemplateError::IfWithoutEnd)
        );
        assert!(Template::parse("{{ .a ").is_err());
        assert!(Template::parse("{{ if eq .a \"b\" }}x").is_err());
        assert!(Template::parse("{{ printf \"%s\" .a }}").is_err());
    }
}
