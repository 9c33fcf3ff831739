//! Shamir custody: split/combine (any M of N, M-1 is not enough), share files refused when wrong, duplicated,
//! foreign or corrupted, the key check value, the sealed provider's behaviour, and rotation surviving a reseal.

use std::os::unix::fs::PermissionsExt;

use arca_core::{
    RootKeyProvider, Sealable, ShamirRoot, ShareFormatError, ShareRefused, UnsealShare,
    combine_shares, root_sealed_path, split_key,
};
use arca_crypto::{Binding, CryptoError, Key256};

fn texts(shares: &[UnsealShare]) -> Vec<String> {
    shares.iter().map(|s| s.to_text().to_string()).collect()
}

#[test]
fn any_m_of_n_rebuild_and_m_minus_1_does_not() {
    let key = Key256::generate().unwrap();
    let shares = split_key(&key, 3, 5).unwrap();
    assert_eq!(
        shares.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
    let pick = |idx: &[usize]| -> Vec<_> {
        idx.iter()
            .map(|&i| (shares[i].0, shares[i].1.clone()))
            .collect()
    };
    for combo in [[0, 1, 2], [0, 2, 4], [1, 3, 4], [4, 3, 0]] {
        let back = combine_shares(&pick(&combo)).unwrap();
        assert_eq!(back.expose(), key.expose(), "{combo:?}");
    }
    let two = combine_shares(&pick(&[0, 1]));
    assert!(two.is_err() || two.unwrap().expose() != key.expose());
    assert!(split_key(&key, 1, 5).is_err());
    assert!(split_key(&key, 4, 3).is_err());
    assert!(split_key(&key, 2, 17).is_err());
}

#[test]
fn unseal_refuses_bad_shares_and_unseals_with_m() {
    let dir = tempfile::tempdir().unwrap();
    let path = root_sealed_path(dir.path());
    let (created, shares) = ShamirRoot::create(&path, 3, 5).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o400
    );
    let kcv = created.kcv(1).unwrap();
    let texts = texts(&shares);
    let root = ShamirRoot::open(&path).unwrap();
    let status = root.seal_status();
    assert!(status.sealed && status.threshold == 3 && status.shares == 5 && status.progress == 0);
    // Every keyed operation fails while sealed, naming the way out.
    match root.kcv(1) {
        Err(CryptoError::Unavailable(m)) => assert!(m.contains("arca unseal --share"), "{m}"),
        _ => panic!("sealed kcv must fail"),
    }
    assert!(
        root.wrap(1, &Binding::new(), &Key256::generate().unwrap())
            .is_err()
    );
    assert!(root.add_version().is_err());

    // A share of another deployment, a corrupted share, garbage.
    let other_dir = tempfile::tempdir().unwrap();
    let (_, other) = ShamirRoot::create(&root_sealed_path(other_dir.path()), 3, 5).unwrap();
    assert_eq!(
        root.submit_share(&other[0].to_text()).err(),
        Some(ShareRefused::Foreign)
    );
    let mut bad = shares[0].to_text().to_string();
    let last = bad.trim_end().len() - 3;
    bad.replace_range(
        last..last + 1,
        if &bad[last..last + 1] == "A" {
            "B"
        } else {
            "A"
        },
    );
    assert!(matches!(
        root.submit_share(&bad).err(),
        Some(ShareRefused::Format(_))
    ));
    assert_eq!(
        root.submit_share("not a share").err(),
        Some(ShareRefused::Format(ShareFormatError::Malformed))
    );
    // A well-formed share of this deployment whose value was altered: its digest does not match.
    let forged = UnsealShare {
        deployment_id: shares[1].deployment_id,
        threshold: 3,
        shares: 5,
        index: 2,
        value: zeroize::Zeroizing::new([9u8; 32]),
    };
    assert_eq!(
        root.submit_share(&forged.to_text()).err(),
        Some(ShareRefused::Wrong)
    );
    assert_eq!(root.seal_status().progress, 0);

    assert_eq!(root.submit_share(&texts[4]).unwrap().progress, 1);
    assert_eq!(
        root.submit_share(&texts[4]).err(),
        Some(ShareRefused::Duplicate(5))
    );
    let two = root.submit_share(&texts[1]).unwrap();
    assert!(two.sealed && two.progress == 2, "M-1 shares do not unseal");
    let done = root.submit_share(&texts[2]).unwrap();
    assert!(!done.sealed && done.progress == 0);
    assert_eq!(root.kcv(1).unwrap(), kcv, "the key check value matches");

    // Sealed again: keys gone, and another M of N unseal.
    root.seal();
    assert!(root.seal_status().sealed && root.kcv(1).is_err());
    for t in [&texts[0], &texts[3], &texts[1]] {
        root.submit_share(t).unwrap();
    }
    assert_eq!(root.kcv(1).unwrap(), kcv);
}

#[test]
fn rotation_while_unsealed_survives_reseal_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = root_sealed_path(dir.path());
    let (root, shares) = ShamirRoot::create(&path, 2, 3).unwrap();
    let texts = texts(&shares);
    let binding = Binding::new().raw(b"test");
    let key = Key256::generate().unwrap();
    let wrapped1 = root.wrap(1, &binding, &key).unwrap();
    assert_eq!(root.add_version().unwrap(), 2);
    assert_eq!((root.versions(), root.active_version()), (vec![1, 2], 2));
    let wrapped2 = root.wrap(2, &binding, &key).unwrap();
    let kcv2 = root.kcv(2).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o400
    );
    assert!(!path.with_extension("sealed.new").exists());
    root.seal();
    assert!(root.unwrap(2, &binding, &wrapped2).is_err());
    root.submit_share(&texts[0]).unwrap();
    root.submit_share(&texts[2]).unwrap();
    assert_eq!(
        root.unwrap(2, &binding, &wrapped2).unwrap().expose(),
        key.expose()
    );

    // A fresh process (restart) sees both versions with the same shares.
    let restarted = ShamirRoot::open(&path).unwrap();
    assert_eq!(restarted.versions(), vec![1, 2]);
    restarted.submit_share(&texts[1]).unwrap();
    restarted.submit_share(&texts[2]).unwrap();
    assert_eq!(restarted.kcv(2).unwrap(), kcv2);
    assert_eq!(
        restarted.unwrap(1, &binding, &wrapped1).unwrap().expose(),
        key.expose()
    );
    restarted.retire_version(1).unwrap();
    assert!(restarted.retire_version(2).is_err(), "the active one stays");
    root.reload().unwrap();
    assert_eq!(root.versions(), vec![2]);
}
