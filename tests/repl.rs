//! Issue: `jhctl repl`. Piped sessions against the real hub (multi-line
//! input, a scope kept across inputs, errors that don't end the session,
//! `:doc`, `:save` replayed by `jhctl run`), and sessions in a real
//! pseudo-terminal (Tab completion, Ctrl-C, history across sessions).

use crate::support::hub::TestHub;
use crate::support::test::Test;

#[test]
fn piped_inputs_share_one_scope_and_go_on_after_errors() {
    let hub = TestHub::start();
    hub.create_users(&["ann"], true);
    let input = "\
let names = [\"bob\", \"cy\"];
fn shout(text) {
    text.to_upper()
}
hub.create_users(names)
for name in names {
    let user = hub.user(name);
    print(shout(user.name) + \" admin=\" + user.admin);
}
boom(names)
let ann = hub.user(\"ann\");
ann.admin
#{ n: names.len(), first: names[0] }
";
    let out = Test::new().hub(&hub).arg("repl").stdin(input).run();
    println!("{out}");
}
