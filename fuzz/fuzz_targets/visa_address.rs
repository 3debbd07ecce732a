//! VISA resource names: never panic; an address that parses prints as a resource name that
//! parses to the same address.
#![no_main]

use libfuzzer_sys::fuzz_target;
use replay_core::Address;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(address) = Address::parse(text) {
        let printed = address.to_string();
        let again = Address::parse(&printed)
            .unwrap_or_else(|e| panic!("`{printed}` (from `{text}`) does not parse: {e}"));
        assert_eq!(again.to_string(), printed);
    }
});
