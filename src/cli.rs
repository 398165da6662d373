//! Command-line tasks that are not the server: listing and checking content.

use anyhow::Result;
use serde_json::json;

use crate::config::Settings;
use crate::curriculum::{ExerciseKind, Item};
use crate::server::load_programme;

/// `lockstep curriculum list [--json]`
pub fn curriculum_list(settings: &Settings, as_json: bool) -> Result<()> {
    let programme = load_programme(settings)?;
    if !as_json {
        for module in &programme.modules {
            println!("{}. {} ({})", module.number, module.title, module.id);
            for item in &module.items {
                match item {
                    Item::Lesson(lesson) => {
                        println!("   lesson    {:<28} {}", lesson.id, lesson.title)
                    }
                    Item::Exercise(exercise) => {
                        println!(
                            "   exercise  {:<28} {} [{}]",
                            exercise.id,
                            exercise.title,
                            exercise.kind.label()
                        )
                    }
                }
            }
        }
        return Ok(());
    }
    let modules: Vec<_> = programme
        .modules
        .iter()
        .map(|module| {
            let lessons: Vec<_> = module
                .lessons()
                .map(|lesson| {
                    json!({
                        "id": lesson.id,
                        "title": lesson.title,
                        "minutes": lesson.minutes,
                        "examples": lesson.examples.len(),
                        "path": lesson.path,
                    })
                })
                .collect();
            let exercises: Vec<_> = module
                .exercises()
                .map(|exercise| {
                    let dir = &exercise.dir;
                    let tests = match exercise.kind {
                        ExerciseKind::Tests => exercise.mutants.iter().map(|m| dir.join("mutants").join(format!("{}.rs", m.name))).collect::<Vec<_>>(),
                        _ => vec![dir.join("tests/visible.rs"), dir.join("tests/hidden.rs")],
                    };
                    json!({
                        "id": exercise.id,
                        "title": exercise.title,
                        "kind": exercise.kind,
                        "difficulty": exercise.difficulty,
                        "minutes": exercise.minutes,
                        "hints": exercise.hints.len(),
                        "content_hash": exercise.content_hash,
                        "statement": dir.join("statement.md"),
                        "starter": dir.join("starter.rs"),
                        "solution": dir.join("solution.rs"),
                        "implementation": (exercise.kind == ExerciseKind::Tests).then(|| dir.join("implementation.rs")),
                        "tests": tests,
                    })
                })
                .collect();
            json!({
                "id": module.id,
                "title": module.title,
                "summary": module.summary,
                "lessons": lessons,
                "exercises": exercises,
            })
        })
        .collect();
    let out = json!({
        "title": programme.title,
        "modules": modules,
        "totals": {
            "modules": programme.modules.len(),
            "lessons": programme.lessons().count(),
            "exercises": programme.exercises().count(),
        },
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
