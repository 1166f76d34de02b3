//! The documentation: every relative link in README.md and docs/ resolves, every page of docs/ is
//! in the book's summary, and the README's command list names exactly the commands there are.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    process::Command,
};

const BIN: &str = env!("CARGO_BIN_EXE_eravm-diff");
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// README.md and every Markdown page under docs/.
fn pages() -> Vec<PathBuf> {
    fn walk(dir: &Path, pages: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, pages);
            } else if path.extension().is_some_and(|ext| ext == "md") {
                pages.push(path);
            }
        }
    }
    let mut pages = vec![Path::new(ROOT).join("README.md")];
    walk(&Path::new(ROOT).join("docs"), &mut pages);
    pages.sort();
    pages
}

/// The targets of the Markdown links `[text](target)` in `text`, outside code.
fn links(text: &str) -> Vec<String> {
    let mut links = vec![];
    let mut in_code_block = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code_block = !in_code_block;
            continue;
        }
        if in_code_block {
            continue;
        }
        // Inline code spans hold no links.
        let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        let mut rest = prose.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            links.push(after[..end].trim().to_owned());
            rest = &after[end..];
        }
    }
    links
}

fn is_relative(target: &str) -> bool {
    !(target.is_empty()
        || target.starts_with('#')
        || target.contains("://")
        || target.starts_with("mailto:"))
}

#[test]
fn every_relative_link_resolves() {
    let mut broken = vec![];
    let mut checked = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for target in links(&text)
            .into_iter()
            .filter(|target| is_relative(target))
        {
            let path = target.split('#').next().unwrap();
            checked += 1;
            if !page.parent().unwrap().join(path).exists() {
                broken.push(format!("{}: {target}", page.display()));
            }
        }
    }
    assert!(
        checked > 20,
        "only {checked} links found: is the parser right?"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn every_page_of_the_book_is_in_its_summary() {
    let docs = Path::new(ROOT).join("docs");
    let summary = std::fs::read_to_string(docs.join("SUMMARY.md")).unwrap();
    let listed: BTreeSet<PathBuf> = links(&summary)
        .into_iter()
        .map(|target| docs.join(target))
        .collect();
    let unlisted: Vec<_> = pages()
        .into_iter()
        .filter(|page| page.starts_with(&docs) && !page.ends_with("SUMMARY.md"))
        .filter(|page| !listed.contains(page))
        .collect();
    assert!(unlisted.is_empty(), "not in docs/SUMMARY.md: {unlisted:?}");
}

/// The subcommands `eravm-diff --help` lists.
fn subcommands() -> BTreeSet<String> {
    let output = Command::new(BIN).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    let commands = help.split("Commands:").nth(1).expect("a Commands section");
    let commands = commands.split("\n\n").next().unwrap();
    commands
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|command| *command != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_readme_lists_every_command_and_only_those() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let listed: BTreeSet<String> = readme
        .lines()
        .filter_map(|line| line.strip_prefix("eravm-diff "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    let commands = subcommands();
    assert!(commands.len() >= 10, "{commands:?}");
    assert_eq!(
        listed, commands,
        "README command list against `eravm-diff --help`"
    );
    for command in &commands {
        let output = Command::new(BIN)
            .args([command, "--help"])
            .output()
            .unwrap();
        assert!(output.status.success(), "eravm-diff {command} --help");
    }
}
