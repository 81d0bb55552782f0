//! BOLT 11 spec vectors (valid and invalid, copied from lightning-invoice 0.34.1
//! `tests/ser_de.rs`) and the widget's own checks, through the public API of
//! `lightning_checkout::invoice`.

mod common;

use bitcoin::hashes::{sha256, Hash};
use common::{assert_same_as_reference, make, sign_raw, Desc, Spec, NOW_SECS, SPEC_TIMESTAMP};
use lightning_checkout::invoice::{
    check_invoice, decode, hash_to_hex, parse_hash_hex, preimage_matches, Expected, InvoiceError,
    Network, ParseError, SemanticError, MAX_INVOICE_LEN,
};
use lightning_invoice::{Bolt11SemanticError, Currency, InvoiceBuilder, PaymentSecret};
use std::time::Duration;

const NOW_MS: u64 = NOW_SECS * 1000;

/// The payment hash of all BOLT 11 examples but one.
const SPEC_HASH: &str = "0001020304050607080900010203040506070809000102030405060708090102";

/// The text whose SHA-256 is the `h` field of the description-hash examples.
const CAKE: &str = "One piece of chocolate cake, one icecream cone, one pickle, one slice of swiss cheese, one slice of salami, one lollypop, one piece of cherry pie, one sausage, one cupcake, and one slice of watermelon";

struct Valid {
    invoice: &'static str,
    network: Network,
    amount_msat: Option<u64>,
    hash: &'static str,
    timestamp: u64,
    expiry: u64,
    /// `None`: the invoice has a description hash of [`CAKE`] instead.
    description: Option<&'static str>,
}

const BLOCKSTREAM: &str = "Blockstream Store: 88.85 USD for Blockstream Ledger Nano S x 1, \"Back In My Day\" Sticker x 2, \"I Got Lightning Working\" Sticker x 2 and 1 more items";

fn valid_vectors() -> Vec<Valid> {
    let v = |invoice, network, amount_msat, expiry, description| Valid {
        invoice,
        network,
        amount_msat,
        hash: SPEC_HASH,
        timestamp: SPEC_TIMESTAMP,
        expiry,
        description,
    };
    vec![
        // Donation: no amount.
        v("lnbc1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpl2pkx2ctnv5sxxmmwwd5kgetjypeh2ursdae8g6twvus8g6rfwvs8qun0dfjkxaq9qrsgq357wnc5r2ueh7ck6q93dj32dlqnls087fxdwk8qakdyafkq3yap9us6v52vjjsrvywa6rt52cm9r9zqt8r2t7mlcwspyetp5h2tztugp9lfyql",
          Network::Bitcoin, None, 3600, Some("Please consider supporting this project")),
        // 2500 uBTC, 1 cup coffee, expiry 60 s.
        v("lnbc2500u1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpu9qrsgquk0rl77nj30yxdy8j9vdx85fkpmdla2087ne0xh8nhedh8w27kyke0lp53ut353s06fv3qfegext0eh0ymjpf39tuven09sam30g4vgpfna3rh",
          Network::Bitcoin, Some(250_000_000), 60, Some("1 cup coffee")),
        // UTF-8 description.
        v("lnbc2500u1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpquwpc4curk03c9wlrswe78q4eyqc7d8d0xqzpu9qrsgqhtjpauu9ur7fw2thcl4y9vfvh4m9wlfyz2gem29g5ghe2aak2pm3ps8fdhtceqsaagty2vph7utlgj48u0ged6a337aewvraedendscp573dxr",
          Network::Bitcoin, Some(250_000_000), 60, Some("ナンセンス 1杯")),
        // Description hash.
        v("lnbc20m1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqhp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98klysy043l2ahrqs9qrsgq7ea976txfraylvgzuxs8kgcw23ezlrszfnh8r6qtfpr6cxga50aj6txm9rxrydzd06dfeawfk6swupvz4erwnyutnjq7x39ymw6j38gp7ynn44",
          Network::Bitcoin, Some(2_000_000_000), 3600, None),
        // Testnet, P2PKH fallback.
        v("lntb20m1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98klysy043l2ahrqspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqfpp3x9et2e20v6pu37c5d9vax37wxq72un989qrsgqdj545axuxtnfemtpwkc45hx9d2ft7x04mt8q7y6t0k2dge9e7h8kpy9p34ytyslj3yu569aalz2xdk8xkd7ltxqld94u8h2esmsmacgpghe9k8",
          Network::Testnet, Some(2_000_000_000), 3600, None),
        // Mainnet, P2PKH fallback and route hints.
        v("lnbc20m1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqhp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98klysy043l2ahrqsfpp3qjmp7lwpagxun9pygexvgpjdc4jdj85fr9yq20q82gphp2nflc7jtzrcazrra7wwgzxqc8u7754cdlpfrmccae92qgzqvzq2ps8pqqqqqqpqqqqq9qqqvpeuqafqxu92d8lr6fvg0r5gv0heeeqgcrqlnm6jhphu9y00rrhy4grqszsvpcgpy9qqqqqqgqqqqq7qqzq9qrsgqdfjcdk6w3ak5pca9hwfwfh63zrrz06wwfya0ydlzpgzxkn5xagsqz7x9j4jwe7yj7vaf2k9lqsdk45kts2fd0fkr28am0u4w95tt2nsq76cqw0",
          Network::Bitcoin, Some(2_000_000_000), 3600, None),
        // P2SH fallback.
        v("lnbc20m1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98klysy043l2ahrqspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqfppj3a24vwu6r8ejrss3axul8rxldph2q7z99qrsgqz6qsgww34xlatfj6e3sngrwfy3ytkt29d2qttr8qz2mnedfqysuqypgqex4haa2h8fx3wnypranf3pdwyluftwe680jjcfp438u82xqphf75ym",
          Network::Bitcoin, Some(2_000_000_000), 3600, None),
        // P2WPKH fallback.
        v("lnbc20m1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98klysy043l2ahrqspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqfppqw508d6qejxtdg4y5r3zarvary0c5xw7k9qrsgqt29a0wturnys2hhxpner2e3plp6jyj8qx7548zr2z7ptgjjc7hljm98xhjym0dg52sdrvqamxdezkmqg4gdrvwwnf0kv2jdfnl4xatsqmrnsse",
          Network::Bitcoin, Some(2_000_000_000), 3600, None),
        // P2WSH fallback.
        v("lnbc20m1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98klysy043l2ahrqspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqfp4qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q9qrsgq9vlvyj8cqvq6ggvpwd53jncp9nwc47xlrsnenq2zp70fq83qlgesn4u3uyf4tesfkkwwfg3qs54qe426hp3tz7z6sweqdjg05axsrjqp9yrrwc",
          Network::Bitcoin, Some(2_000_000_000), 3600, None),
        // Blockstream Store: pico amount, route hint, expiry one week, c field.
        Valid {
            invoice: "lnbc9678785340p1pwmna7lpp5gc3xfm08u9qy06djf8dfflhugl6p7lgza6dsjxq454gxhj9t7a0sd8dgfkx7cmtwd68yetpd5s9xar0wfjn5gpc8qhrsdfq24f5ggrxdaezqsnvda3kkum5wfjkzmfqf3jkgem9wgsyuctwdus9xgrcyqcjcgpzgfskx6eqf9hzqnteypzxz7fzypfhg6trddjhygrcyqezcgpzfysywmm5ypxxjemgw3hxjmn8yptk7untd9hxwg3q2d6xjcmtv4ezq7pqxgsxzmnyyqcjqmt0wfjjq6t5v4khxsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygsxqyjw5qcqp2rzjq0gxwkzc8w6323m55m4jyxcjwmy7stt9hwkwe2qxmy8zpsgg7jcuwz87fcqqeuqqqyqqqqlgqqqqn3qq9q9qrsgqrvgkpnmps664wgkp43l22qsgdw4ve24aca4nymnxddlnp8vh9v2sdxlu5ywdxefsfvm0fq3sesf08uf6q9a2ke0hc9j6z6wlxg5z5kqpu2v9wz",
            network: Network::Bitcoin,
            amount_msat: Some(967_878_534),
            hash: "462264ede7e14047e9b249da94fefc47f41f7d02ee9b091815a5506bc8abf75f",
            timestamp: 1_572_468_703,
            expiry: 604_800,
            description: Some(BLOCKSTREAM),
        },
        // Features 8, 14, 99.
        v("lnbc25m1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5vdhkven9v5sxyetpdeessp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9q5sqqqqqqqqqqqqqqqqsgq2a25dxl5hrntdtn6zvydt7d66hyzsyhqs4wdynavys42xgl6sgx9c4g7me86a27t07mdtfry458rtjr0v92cnmswpsjscgt2vcse3sgpz3uapa",
          Network::Bitcoin, Some(2_500_000_000), 3600, Some("coffee beans")),
        // Same, upper case.
        v("LNBC25M1PVJLUEZPP5QQQSYQCYQ5RQWZQFQQQSYQCYQ5RQWZQFQQQSYQCYQ5RQWZQFQYPQDQ5VDHKVEN9V5SXYETPDEESSP5ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYGS9Q5SQQQQQQQQQQQQQQQQSGQ2A25DXL5HRNTDTN6ZVYDT7D66HYZSYHQS4WDYNAVYS42XGL6SGX9C4G7ME86A27T07MDTFRY458RTJR0V92CNMSWPSJSCGT2VCSE3SGPZ3UAPA",
          Network::Bitcoin, Some(2_500_000_000), 3600, Some("coffee beans")),
        // Same, with unknown and invalid fields that must be skipped.
        v("lnbc25m1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5vdhkven9v5sxyetpdeessp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9q5sqqqqqqqqqqqqqqqqsgq2qrqqqfppnqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqppnqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqpp4qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqhpnqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqhp4qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqspnqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqsp4qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqnp5qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqnpkqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqz599y53s3ujmcfjp5xrdap68qxymkqphwsexhmhr8wdz5usdzkzrse33chw6dlp3jhuhge9ley7j2ayx36kawe7kmgg8sv5ugdyusdcqzn8z9x",
          Network::Bitcoin, Some(2_500_000_000), 3600, Some("coffee beans")),
        // Payment metadata, with a payee public key (older version of the test).
        v("lnbc10m1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdp9wpshjmt9de6zqmt9w3skgct5vysxjmnnd9jx2mq8q8a04uqnp4q0n326hr8v9zprg8gsvezcch06gfaqqhde2aj730yg0durunfhv66sp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9q2gqqqqqqsgqy9gw6ymamd20jumvdgpfphkhp8fzhhdhycw36egcmla5vlrtrmhs9t7psfy3hkkdqzm9eq64fjg558znccds5nhsfmxveha5xe0dykgpspdha0",
          Network::Bitcoin, Some(1_000_000_000), 3600, Some("payment metadata inside")),
        // Payment metadata.
        v("lnbc10m1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdp9wpshjmt9de6zqmt9w3skgct5vysxjmnnd9jx2mq8q8a04uqsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9q2gqqqqqqsgq7hf8he7ecf7n4ffphs6awl9t6676rrclv9ckg3d3ncn7fct63p6s365duk5wrk202cfy3aj5xnnp5gs3vrdvruverwwq7yzhkf5a3xqpd05wjc",
          Network::Bitcoin, Some(1_000_000_000), 3600, Some("payment metadata inside")),
        // Donation again, high-S signature (valid: BOLT 11 recovery accepts high S).
        v("lnbc1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpl2pkx2ctnv5sxxmmwwd5kgetjypeh2ursdae8g6twvus8g6rfwvs8qun0dfjkxaq9qrsgq357wnc5r2ueh7ck6q93dj32dlqnls087fxdwk8qakdyafkq3yap2r09nt4ndd0unm3z9u5t48y6ucv4r5sg7lk98c77ctvjczkspk5qprc90gx",
          Network::Bitcoin, None, 3600, Some("Please consider supporting this project")),
    ]
}

#[test]
fn all_bolt11_valid_vectors_decode_with_their_fields() {
    let cake_hash = sha256::Hash::hash(CAKE.as_bytes()).to_byte_array();
    let vectors = valid_vectors();
    assert_eq!(vectors.len(), 16, "every valid example of ser_de.rs");
    for v in vectors {
        // The same fields as lightning-invoice, the reference decoder.
        assert!(!assert_same_as_reference(v.invoice), "{}", v.invoice);
        let d = decode(v.invoice).unwrap_or_else(|e| panic!("{}: {e:?}", v.invoice));
        assert_eq!(d.payment_request(), v.invoice.to_ascii_lowercase());
        assert_eq!(d.network(), v.network, "{}", v.invoice);
        assert_eq!(d.amount_msat(), v.amount_msat, "{}", v.invoice);
        assert_eq!(d.payment_hash_hex(), v.hash);
        assert_eq!(Some(d.payment_hash()), parse_hash_hex(v.hash));
        assert_eq!(d.timestamp_secs(), v.timestamp);
        assert_eq!(d.expiry_secs(), v.expiry, "{}", v.invoice);
        assert_eq!(d.expires_at_secs(), v.timestamp + v.expiry);
        assert_eq!(d.description(), v.description, "{}", v.invoice);
        match v.description {
            Some(_) => assert_eq!(d.description_hash(), None),
            None => assert_eq!(d.description_hash(), Some(cake_hash)),
        }
        assert_eq!(
            d.wallet_uri(),
            format!("lightning:{}", v.invoice.to_ascii_lowercase())
        );
        assert_eq!(
            d.qr_payload(),
            format!("lightning:{}", v.invoice.to_ascii_uppercase())
        );

        // And through the whole check, with the matching expectations, at the timestamp.
        if let Some(amount_msat) = v.amount_msat {
            let expected = Expected {
                amount_msat,
                network: v.network,
                payment_hash: d.payment_hash(),
            };
            let checked = check_invoice(v.invoice, &expected, v.timestamp * 1000)
                .unwrap_or_else(|e| panic!("{}: {e:?}", v.invoice));
            assert_eq!(checked.amount_msat(), amount_msat);
            assert_eq!(checked.decoded(), &d);
        }
    }
    assert_eq!(
        decode(valid_vectors()[9].invoice).map(|d| d.min_final_cltv_expiry_delta()),
        Ok(Some(10))
    );
}

#[test]
fn all_bolt11_invalid_vectors_are_refused_precisely() {
    let cases: Vec<(&str, InvoiceError)> = vec![
        // Unknown required feature bit 100.
        ("lnbc25m1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5vdhkven9v5sxyetpdeessp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9q4psqqqqqqqqqqqqqqqqsgqtqyx5vggfcsll4wu246hz02kp85x4katwsk9639we5n5yngc3yhqkm35jnjw4len8vrnqnf5ejh0mzj9n3vz2px97evektfm2l6wqccp3y7372",
         InvoiceError::Semantic(SemanticError::InvalidFeatures)),
        // Bech32 checksum is invalid.
        ("lnbc2500u1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpquwpc4curk03c9wlrswe78q4eyqc7d8d0xqzpuyk0sg5g70me25alkluzd2x62aysf2pyy8edtjeevuv4p2d5p76r4zkmneet7uvyakky2zr4cusd45tftc9c5fh0nnqpnl2jfll544esqchsrnt",
         InvoiceError::Checksum),
        // Malformed bech32 string (no 1).
        ("pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpquwpc4curk03c9wlrswe78q4eyqc7d8d0xqzpuyk0sg5g70me25alkluzd2x62aysf2pyy8edtjeevuv4p2d5p76r4zkmneet7uvyakky2zr4cusd45tftc9c5fh0nnqpnl2jfll544esqchsrny",
         InvoiceError::Parse(ParseError::Bech32)),
        // Malformed bech32 string (mixed case).
        ("LNBC2500u1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpquwpc4curk03c9wlrswe78q4eyqc7d8d0xqzpuyk0sg5g70me25alkluzd2x62aysf2pyy8edtjeevuv4p2d5p76r4zkmneet7uvyakky2zr4cusd45tftc9c5fh0nnqpnl2jfll544esqchsrny",
         InvoiceError::MixedCase),
        // String is too short.
        ("lnbc1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpl2pkx2ctnv5sxxmmwwd5kgetjypeh2ursdae8g6na6hlh",
         InvoiceError::Parse(ParseError::TooShortDataPart)),
        // Invalid multiplier.
        ("lnbc2500x1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpusp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9qrsgqrrzc4cvfue4zp3hggxp47ag7xnrlr8vgcmkjxk3j5jqethnumgkpqp23z9jclu3v0a7e0aruz366e9wqdykw6dxhdzcjjhldxq0w6wgqcnu43j",
         InvoiceError::Parse(ParseError::UnknownSiPrefix)),
        // Invalid sub-millisatoshi precision.
        ("lnbc2500000001p1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpusp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9qrsgq0lzc236j96a95uv0m3umg28gclm5lqxtqqwk32uuk4k6673k6n5kfvx3d2h8s295fad45fdhmusm8sjudfhlf6dcsxmfvkeywmjdkxcp99202x",
         InvoiceError::Semantic(SemanticError::ImpreciseAmount)),
    ];
    for (invoice, error) in cases {
        assert!(!assert_same_as_reference(invoice), "{invoice}");
        assert_eq!(decode(invoice), Err(error.clone()), "{invoice}");
        // The same error through the full check, whatever is expected.
        let expected = Expected {
            amount_msat: 250_000_000,
            network: Network::Bitcoin,
            payment_hash: [0; 32],
        };
        assert_eq!(check_invoice(invoice, &expected, 0).map(|_| ()), Err(error));
    }
}

/// BOLT 11's "Signature is not recoverable" example. `Bolt11Invoice::from_str` refuses it
/// with `InvalidSignature`; the widget does not verify signatures (no pinned payee key, so a
/// valid signature would prove nothing about who is paid, and secp256k1 verification costs
/// ~1 MB of wasm; see the docs of `src/invoice.rs`), so it decodes structurally. That is
/// acceptable because the widget never claims the signature is valid: it only shows an
/// invoice whose amount, network, expiry and payment hash match what the backend reported,
/// and only the backend (which verifies provider invoices natively) says "paid".
#[test]
fn invalid_signature_vector_decodes_because_signatures_are_not_checked() {
    const BAD_SIG: &str = "lnbc2500u1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpusp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9qrsgqwgt7mcn5yqw3yx0w94pswkpq6j9uh6xfqqqtsk4tnarugeektd4hg5975x9am52rz4qskukxdmjemg92vvqz8nvmsye63r5ykel43pgz7zq0g2";
    // lightning-invoice's checked path does refuse it.
    assert_eq!(
        BAD_SIG.parse::<lightning_invoice::Bolt11Invoice>(),
        Err(lightning_invoice::ParseOrSemanticError::SemanticError(
            Bolt11SemanticError::InvalidSignature
        ))
    );
    let d = decode(BAD_SIG).expect("structurally valid");
    assert_eq!(d.amount_msat(), Some(250_000_000));
    assert_eq!(d.description(), Some("1 cup coffee"));
    assert_eq!(d.expiry_secs(), 60);
    assert_eq!(d.payment_hash_hex(), SPEC_HASH);
}

fn expected_for(spec: &Spec, network: Network) -> Expected {
    Expected {
        amount_msat: spec.amount_msat.unwrap_or(0),
        network,
        payment_hash: spec.payment_hash,
    }
}

#[test]
fn network_matrix_only_the_diagonal_is_accepted() {
    let currencies = [
        (Currency::Bitcoin, Some(Network::Bitcoin), "lnbc"),
        (Currency::BitcoinTestnet, Some(Network::Testnet), "lntb"),
        (Currency::Signet, Some(Network::Signet), "lntbs"),
        (Currency::Regtest, Some(Network::Regtest), "lnbcrt"),
        (Currency::Simnet, None, "lnsb"),
    ];
    let networks = [
        Network::Bitcoin,
        Network::Testnet,
        Network::Signet,
        Network::Regtest,
    ];
    let mut accepted = 0;
    for (currency, invoice_network, prefix) in currencies {
        let spec = Spec {
            currency,
            ..Spec::default()
        };
        let invoice = make(&spec);
        // 2,500 sat = 25u: the prefix is followed by the amount, e.g. lnbcrt25u1…
        assert!(invoice.starts_with(&format!("{prefix}25u1")), "{invoice}");
        for expected_network in networks {
            let result = check_invoice(&invoice, &expected_for(&spec, expected_network), NOW_MS);
            match invoice_network {
                Some(found) if found == expected_network => {
                    assert_eq!(result.map(|c| c.network()), Ok(found));
                    accepted += 1;
                }
                Some(found) => assert_eq!(
                    result,
                    Err(InvoiceError::WrongNetwork {
                        expected: expected_network,
                        found
                    }),
                    "{invoice} against {expected_network}"
                ),
                None => assert_eq!(result, Err(InvoiceError::UnknownNetwork)),
            }
        }
    }
    assert_eq!(accepted, 4);
}

#[test]
fn network_names_and_currencies_map_exactly() {
    for (name, n) in [
        ("bitcoin", Network::Bitcoin),
        ("MAINNET", Network::Bitcoin),
        (" Testnet ", Network::Testnet),
        ("signet", Network::Signet),
        ("RegTest", Network::Regtest),
    ] {
        assert_eq!(Network::parse(name), Some(n));
        assert_eq!(Network::from_currency_code(n.currency_code()), Some(n));
        assert_eq!(Network::parse(n.as_str()), Some(n));
    }
    for bad in ["", "simnet", "testnet4x", "bc", "lnbc", "main net"] {
        assert_eq!(Network::parse(bad), None, "{bad}");
    }
    for (code, n) in [
        (Currency::Bitcoin, Network::Bitcoin),
        (Currency::BitcoinTestnet, Network::Testnet),
        (Currency::Signet, Network::Signet),
        (Currency::Regtest, Network::Regtest),
    ] {
        assert_eq!(Network::from_currency_code(&code.to_string()), Some(n));
    }
    for bad in ["sb", "", "b", "bcr", "tbsx", "BC"] {
        assert_eq!(Network::from_currency_code(bad), None, "{bad}");
    }
}

#[test]
fn amount_must_be_exact_to_the_millisatoshi() {
    let spec = Spec::default();
    let expected = expected_for(&spec, Network::Bitcoin);
    assert!(check_invoice(&make(&spec), &expected, NOW_MS).is_ok());
    for found_msat in [2_500_001, 2_499_999, 2_501_000, 25_000_000] {
        let invoice = make(&Spec {
            amount_msat: Some(found_msat),
            ..Spec::default()
        });
        assert_eq!(
            decode(&invoice).map(|d| d.amount_msat()),
            Ok(Some(found_msat))
        );
        assert_eq!(
            check_invoice(&invoice, &expected, NOW_MS),
            Err(InvoiceError::WrongAmount {
                expected_msat: 2_500_000,
                found_msat
            })
        );
    }
}

#[test]
fn amountless_invoice_is_refused() {
    let spec = Spec {
        amount_msat: None,
        ..Spec::default()
    };
    let invoice = make(&spec);
    assert_eq!(decode(&invoice).map(|d| d.amount_msat()), Ok(None));
    let expected = Expected {
        amount_msat: 2_500_000,
        ..expected_for(&spec, Network::Bitcoin)
    };
    assert_eq!(
        check_invoice(&invoice, &expected, NOW_MS),
        Err(InvoiceError::NoAmount)
    );
}

#[test]
fn payment_hash_must_match() {
    let spec = Spec::default();
    let invoice = make(&spec);
    let mut other = spec.payment_hash;
    other[31] ^= 1;
    let expected = Expected {
        payment_hash: other,
        ..expected_for(&spec, Network::Bitcoin)
    };
    assert_eq!(
        check_invoice(&invoice, &expected, NOW_MS),
        Err(InvoiceError::HashMismatch)
    );
}

#[test]
fn expiry_is_exclusive_and_uses_the_given_clock() {
    let spec = Spec {
        timestamp_secs: NOW_SECS,
        expiry_secs: Some(900),
        ..Spec::default()
    };
    let invoice = make(&spec);
    let expected = expected_for(&spec, Network::Bitcoin);
    let expires_ms = (NOW_SECS + 900) * 1000;

    let ok = check_invoice(&invoice, &expected, expires_ms - 1).expect("1 ms before expiry");
    assert_eq!(ok.expires_at_ms(), expires_ms);
    assert_eq!(ok.expires_at_secs(), NOW_SECS + 900);
    assert_eq!(ok.timestamp_secs(), NOW_SECS);
    assert_eq!(ok.expiry_secs(), 900);
    assert_eq!(ok.remaining_secs(expires_ms - 1), 1);
    assert_eq!(ok.remaining_ms(expires_ms - 1), 1);
    assert_eq!(ok.remaining_secs(NOW_MS), 900);
    assert_eq!(ok.remaining_secs(NOW_MS + 1), 900, "rounded up");
    assert_eq!(ok.remaining_secs(expires_ms), 0);
    assert_eq!(ok.remaining_secs(u64::MAX), 0);
    assert!(!ok.is_expired_at(expires_ms - 1));
    assert!(ok.is_expired_at(expires_ms));

    for now in [expires_ms, expires_ms + 1, u64::MAX] {
        assert_eq!(
            check_invoice(&invoice, &expected, now),
            Err(InvoiceError::Expired {
                expired_at_secs: NOW_SECS + 900
            })
        );
    }
    // A clock far behind (or an invoice from the future) is not refused here.
    assert!(check_invoice(&invoice, &expected, 0).is_ok());
}

#[test]
fn default_expiry_is_3600_and_huge_expiry_saturates() {
    let spec = Spec {
        expiry_secs: None,
        ..Spec::default()
    };
    let d = decode(&make(&spec)).expect("decodes");
    assert_eq!(d.expiry_secs(), 3600);
    assert_eq!(d.expires_at_secs(), NOW_SECS + 3600);

    let spec = Spec {
        expiry_secs: Some(u64::MAX),
        ..Spec::default()
    };
    let d = decode(&make(&spec)).expect("decodes");
    assert_eq!(d.expiry_secs(), u64::MAX);
    assert_eq!(d.expires_at_secs(), u64::MAX);
    assert_eq!(d.expires_at_ms(), u64::MAX);
    assert!(!d.is_expired_at(u64::MAX - 1));
}

#[test]
fn scheme_prefixes_whitespace_and_case() {
    let spec = Spec::default();
    let lower = make(&spec);
    let upper = lower.to_ascii_uppercase();
    let expected = expected_for(&spec, Network::Bitcoin);
    for input in [
        lower.clone(),
        upper.clone(),
        format!("lightning:{lower}"),
        format!("LIGHTNING:{upper}"),
        format!("Lightning:{lower}"),
        format!("  \n\tlightning:{upper} \r\n"),
        format!(
            "bitcoin:BC1QXY2KGDYGJRSQTZQ2N0YRF2493P83KKFJHX0WLH?amount=0.000025&lightning={lower}"
        ),
        format!("BITCOIN:?LIGHTNING={upper}"),
        format!("bitcoin:?label=x&Lightning={lower}&message=y"),
    ] {
        let c =
            check_invoice(&input, &expected, NOW_MS).unwrap_or_else(|e| panic!("{input}: {e:?}"));
        assert_eq!(c.payment_request(), lower);
        assert_eq!(c.wallet_uri(), format!("lightning:{lower}"));
        assert_eq!(c.qr_payload(), format!("lightning:{upper}"));
        assert_eq!(c.payment_hash_hex(), hash_to_hex(&spec.payment_hash));
    }
    // Mixed case, in the invoice itself (the scheme's case does not matter).
    let mut mixed = lower.clone();
    mixed.replace_range(10..11, &lower[10..11].to_ascii_uppercase());
    assert_ne!(mixed, lower);
    assert_eq!(decode(&mixed), Err(InvoiceError::MixedCase));
    assert_eq!(
        decode(&format!("lightning:{mixed}")),
        Err(InvoiceError::MixedCase)
    );
    assert_eq!(
        decode(&format!("LIGHTNING:lnbc{}", &upper[4..])),
        Err(InvoiceError::MixedCase)
    );

    assert_eq!(
        decode("bitcoin:bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"),
        Err(InvoiceError::NoLightningInvoice)
    );
    assert_eq!(
        decode("bitcoin:?lightningx=lnbc1"),
        Err(InvoiceError::NoLightningInvoice)
    );
    for empty in [
        "",
        "   ",
        "lightning:",
        " LIGHTNING: ",
        "bitcoin:?lightning=",
    ] {
        assert_eq!(decode(empty), Err(InvoiceError::Empty), "{empty:?}");
    }
    assert!(decode("lightning://lnbc1").is_err());
}

#[test]
fn too_long_input_is_refused_before_parsing() {
    // Not even bech32: a parser would report a character or checksum error instead.
    let too_long = format!("lnbc1{}", "x".repeat(MAX_INVOICE_LEN + 1 - 5));
    assert_eq!(too_long.len(), 7090);
    assert_eq!(decode(&too_long), Err(InvoiceError::TooLong { len: 7090 }));
    assert_eq!(
        decode(&format!("lightning:{too_long}")),
        Err(InvoiceError::TooLong { len: 7090 })
    );
    // Mixed case too, but the length is checked first.
    let mixed = format!("LNBC1{}", "x".repeat(7085));
    assert_eq!(decode(&mixed), Err(InvoiceError::TooLong { len: 7090 }));
    let huge = "q".repeat(1 << 20);
    assert_eq!(decode(&huge), Err(InvoiceError::TooLong { len: 1 << 20 }));
    // 7089 is allowed through to the parser (which then finds it is garbage).
    let at_limit = &too_long[..MAX_INVOICE_LEN];
    assert!(!matches!(
        decode(at_limit),
        Err(InvoiceError::TooLong { .. })
    ));
}

#[test]
fn invoice_too_long_for_a_qr_code_is_refused() {
    // Five 12-hop route hints: a valid invoice of ~5,400 characters (> 4,296 alphanumeric).
    let spec = Spec {
        route_hints: 5,
        ..Spec::default()
    };
    let invoice = make(&spec);
    assert!(
        invoice.len() > 4296 && invoice.len() <= MAX_INVOICE_LEN,
        "{}",
        invoice.len()
    );
    let d = decode(&invoice).expect("structurally valid");
    assert_eq!(
        check_invoice(&invoice, &expected_for(&spec, Network::Bitcoin), NOW_MS),
        Err(InvoiceError::TooLongForQr)
    );
    assert!(lightning_checkout::qr::Qr::encode(&d.qr_payload()).is_err());

    // Two route hints (~2,300 characters) still fit.
    let spec = Spec {
        route_hints: 2,
        ..Spec::default()
    };
    assert!(check_invoice(&make(&spec), &expected_for(&spec, Network::Bitcoin), NOW_MS).is_ok());
}

#[test]
fn hostile_description_is_returned_verbatim() {
    let script = "<script>alert(1)</script>";
    for description in [
        script.to_string(),
        format!("\"><img src=x onerror=alert(1)>&amp;{script}"),
    ] {
        let spec = Spec {
            description: Desc::Text(description.clone()),
            ..Spec::default()
        };
        let c = check_invoice(&make(&spec), &expected_for(&spec, Network::Bitcoin), NOW_MS)
            .expect("valid");
        assert_eq!(c.description(), Some(description.as_str()));
    }
    let spec = Spec {
        description: Desc::Hash([7; 32]),
        ..Spec::default()
    };
    let c =
        check_invoice(&make(&spec), &expected_for(&spec, Network::Bitcoin), NOW_MS).expect("valid");
    assert_eq!(c.description(), None);
    assert_eq!(c.decoded().description_hash(), Some([7; 32]));
}

#[test]
fn semantic_rules_without_signature_are_enforced() {
    let ts = Duration::from_secs(NOW_SECS);
    let hash = sha256::Hash::from_byte_array([0x11; 32]);
    // No payment secret (and so no features).
    let raw = InvoiceBuilder::new(Currency::Bitcoin)
        .amount_milli_satoshis(2_500_000)
        .description("x".into())
        .payment_hash(hash)
        .duration_since_epoch(ts)
        .build_raw()
        .expect("raw");
    assert_eq!(
        decode(&sign_raw(raw)),
        Err(InvoiceError::Semantic(SemanticError::NoPaymentSecret))
    );
    // No description.
    let raw = InvoiceBuilder::new(Currency::Bitcoin)
        .payment_hash(hash)
        .payment_secret(PaymentSecret([2; 32]))
        .duration_since_epoch(ts)
        .build_raw()
        .expect("raw");
    assert_eq!(
        decode(&sign_raw(raw)),
        Err(InvoiceError::Semantic(SemanticError::NoDescription))
    );
    // No payment hash.
    let raw = InvoiceBuilder::new(Currency::Bitcoin)
        .description("x".into())
        .payment_secret(PaymentSecret([2; 32]))
        .duration_since_epoch(ts)
        .build_raw()
        .expect("raw");
    assert_eq!(
        decode(&sign_raw(raw)),
        Err(InvoiceError::Semantic(SemanticError::NoPaymentHash))
    );
}

#[test]
fn garbage_and_mutations_never_panic() {
    let base = make(&Spec::default());
    let expected = expected_for(&Spec::default(), Network::Bitcoin);
    // Every truncation.
    for i in 0..=base.len() {
        let _ = check_invoice(&base[..i], &expected, NOW_MS);
    }
    // Every single-character substitution by a few characters, and deletion.
    let bytes = base.as_bytes();
    for i in 0..bytes.len() {
        for c in [b'q', b'p', b'z', b'1', b'L', b'~'] {
            let mut m = bytes.to_vec();
            m[i] = c;
            let s = String::from_utf8(m).expect("ascii");
            let r = check_invoice(&s, &expected, NOW_MS);
            if s != base {
                assert!(r.is_err(), "mutation at {i} accepted: {s}");
            }
        }
        let mut m = bytes.to_vec();
        m.remove(i);
        let s = String::from_utf8(m).expect("ascii");
        assert!(check_invoice(&s, &expected, NOW_MS).is_err());
    }
    for s in [
        "1",
        "ln",
        "lnbc",
        "lnbc1",
        "lnbc1qqqqqqqq",
        "\u{0}",
        "lightning:\u{202e}",
        "ｌｎｂｃ",
        "lnbc99999999999999999999991pvjluez",
        "bitcoin:?lightning",
    ] {
        assert!(decode(s).is_err(), "{s:?}");
    }
}

#[test]
fn amount_overflowing_u64_picobitcoin_is_refused() {
    // No SI prefix: 100,000,000 BTC = 1e20 pico BTC > u64::MAX. lightning-invoice's raw
    // amount_pico_btc() is None; that must not read as "no amount".
    let raw = InvoiceBuilder::new(Currency::Bitcoin)
        .description("x".into())
        .payment_hash(sha256::Hash::from_byte_array([0x11; 32]))
        .payment_secret(PaymentSecret([2; 32]))
        .duration_since_epoch(Duration::from_secs(NOW_SECS))
        .basic_mpp()
        .build_raw()
        .expect("raw");
    let good = sign_raw(raw);
    // Rewrite the human-readable part by hand and recompute the checksum.
    let (hrp, data) =
        bech32::primitives::decode::CheckedHrpstring::new::<lightning_invoice::Bolt11Bech32>(&good)
            .map(|c| {
                (
                    c.hrp().to_string(),
                    c.fe32_iter::<std::vec::IntoIter<u8>>().collect::<Vec<_>>(),
                )
            })
            .expect("valid");
    assert_eq!(hrp, "lnbc");
    let bad_hrp = bech32::Hrp::parse("lnbc100000000").expect("hrp");
    let bad: String = bech32::primitives::iter::Fe32IterExt::with_checksum::<
        lightning_invoice::Bolt11Bech32,
    >(data.into_iter(), &bad_hrp)
    .chars()
    .collect();
    assert_eq!(
        decode(&bad),
        Err(InvoiceError::Parse(ParseError::IntegerOverflow))
    );
}

#[test]
fn hash_hex_and_preimage() {
    let preimage = [0x5a_u8; 32];
    let hash = sha256::Hash::hash(&preimage).to_byte_array();
    let preimage_hex = hash_to_hex(&preimage);
    assert!(preimage_matches(&preimage_hex, &hash));
    assert!(preimage_matches(&preimage_hex.to_ascii_uppercase(), &hash));
    let mut other = hash;
    other[0] ^= 0x80;
    assert!(!preimage_matches(&preimage_hex, &other));
    // The hash itself is not a preimage of itself.
    assert!(!preimage_matches(&hash_to_hex(&hash), &hash));
    for bad in [
        "",
        "5a",
        &preimage_hex[..62],
        &format!("{preimage_hex}00"),
        &format!(" {}", &preimage_hex[1..]),
        &format!("0x{}", &preimage_hex[2..]),
    ] {
        assert!(!preimage_matches(bad, &hash), "{bad:?}");
    }

    assert_eq!(
        parse_hash_hex(SPEC_HASH).map(|h| hash_to_hex(&h)),
        Some(SPEC_HASH.to_string())
    );
    assert_eq!(
        parse_hash_hex(&SPEC_HASH.to_ascii_uppercase()).map(|h| hash_to_hex(&h)),
        Some(SPEC_HASH.to_string())
    );
    assert_eq!(parse_hash_hex(&"g".repeat(64)), None);
    assert_eq!(parse_hash_hex(&"é".repeat(32)), None);
    assert_eq!(parse_hash_hex(&SPEC_HASH[..63]), None);
    assert_eq!(parse_hash_hex(&format!("{SPEC_HASH}0")), None);
}

#[test]
fn codes_and_messages_for_the_payer() {
    let cases = [
        (
            InvoiceError::WrongAmount { expected_msat: 2_500_000, found_msat: 2_501_000 },
            "invoice_wrong_amount",
            "The invoice from the shop is for 2,501 sat, not the 2,500 sat you asked for, so it is not shown.",
        ),
        (
            InvoiceError::WrongAmount { expected_msat: 2_500_000, found_msat: 2_500_001 },
            "invoice_wrong_amount",
            "The invoice from the shop is for 2,500.001 sat, not the 2,500 sat you asked for, so it is not shown.",
        ),
        (
            InvoiceError::WrongNetwork { expected: Network::Bitcoin, found: Network::Testnet },
            "invoice_wrong_network",
            "The invoice is for another Bitcoin network (testnet), not bitcoin.",
        ),
        (
            InvoiceError::Expired { expired_at_secs: 1 },
            "invoice_expired",
            "The invoice has already expired. Ask for a new one.",
        ),
        (
            InvoiceError::NoAmount,
            "invoice_no_amount",
            "The invoice from the shop has no amount, so it is not shown.",
        ),
        (
            InvoiceError::HashMismatch,
            "invoice_hash_mismatch",
            "The invoice does not match the payment the shop created, so it is not shown.",
        ),
        (
            InvoiceError::Semantic(SemanticError::InvalidFeatures),
            "invoice_invalid",
            "The shop sent an invoice that is not valid, so it is not shown.",
        ),
        (
            InvoiceError::TooLongForQr,
            "invoice_too_long_for_qr",
            "The invoice is too long to show as a QR code, so it is not shown.",
        ),
    ];
    for (e, code, message) in cases {
        assert_eq!(e.code(), code);
        assert_eq!(e.message(), message);
        assert_eq!(e.to_string(), message);
    }
    // Every message is one sentence: it ends with a full stop and has no internals.
    let all = [
        InvoiceError::Empty,
        InvoiceError::TooLong { len: 9000 },
        InvoiceError::NoLightningInvoice,
        InvoiceError::MixedCase,
        InvoiceError::Checksum,
        InvoiceError::Parse(ParseError::MalformedHrp),
        InvoiceError::Semantic(SemanticError::NoPaymentSecret),
        InvoiceError::UnknownNetwork,
        InvoiceError::WrongNetwork {
            expected: Network::Signet,
            found: Network::Regtest,
        },
        InvoiceError::NoAmount,
        InvoiceError::WrongAmount {
            expected_msat: 1,
            found_msat: 2,
        },
        InvoiceError::HashMismatch,
        InvoiceError::Expired { expired_at_secs: 0 },
        InvoiceError::TooLongForQr,
    ];
    let mut codes = std::collections::HashSet::new();
    for e in all {
        let m = e.message();
        assert!(
            m.ends_with('.') && m.chars().next().is_some_and(char::is_uppercase),
            "{m}"
        );
        assert!(
            !m.contains("Bolt11") && !m.contains("bech32") && !m.contains('{'),
            "{m}"
        );
        assert!(e.code().starts_with("invoice_"));
        codes.insert(e.code());
    }
    assert_eq!(codes.len(), 14, "codes are distinct");
}

/// An invoice with the fields of `spec` plus a payee node id `n` whose 33 bytes are `key`
/// (re-encoded with a valid checksum; the signature no longer matches, which the widget does not
/// check).
fn with_payee_key(key: &[u8]) -> String {
    use bech32::primitives::decode::CheckedHrpstring;
    use bech32::primitives::iter::{ByteIterExt, Fe32IterExt};
    use bech32::{Fe32, Hrp};
    let good = make(&Spec::default());
    let checked = CheckedHrpstring::new::<lightning_invoice::Bolt11Bech32>(&good).expect("valid");
    let hrp = checked.hrp().to_string();
    let mut fes: Vec<Fe32> = checked.fe32_iter::<std::vec::IntoIter<u8>>().collect();
    let key_fes: Vec<Fe32> = key.iter().copied().bytes_to_fes().collect();
    let len = key_fes.len();
    let mut field = vec![
        Fe32::try_from(19u8).unwrap(),
        Fe32::try_from((len / 32) as u8).unwrap(),
        Fe32::try_from((len % 32) as u8).unwrap(),
    ];
    field.extend(key_fes);
    // After the 7 characters of the timestamp.
    fes.splice(7..7, field);
    fes.into_iter()
        .with_checksum::<lightning_invoice::Bolt11Bech32>(&Hrp::parse(&hrp).expect("hrp"))
        .chars()
        .collect()
}

/// Node ids stay bytes: refused when their encoding is wrong (as lightning-invoice refuses
/// them), skipped when the `n` field is not 53 characters (BOLT 11), and not decompressed.
#[test]
fn node_ids_are_checked_as_encodings_and_not_decompressed() {
    let secp = bitcoin::secp256k1::Secp256k1::new();
    let real =
        bitcoin::secp256k1::PublicKey::from_secret_key(&secp, &common::secret_key()).serialize();
    // A valid key: both decoders accept it.
    let ok = with_payee_key(&real);
    assert!(decode(&ok).is_ok());
    assert!(!assert_same_as_reference(&ok));
    // Wrong prefix (uncompressed 04, hybrid 06, 00, 05), x at or above the field prime: refused by both.
    let p = {
        let mut p = [0xffu8; 33];
        p[0] = 2;
        p[28] = 0xfe;
        p[31] = 0xfc;
        p[32] = 0x2f;
        p
    };
    for prefix in [0u8, 4, 5, 6, 0xff] {
        let mut k = real;
        k[0] = prefix;
        let inv = with_payee_key(&k);
        assert_eq!(
            decode(&inv),
            Err(InvoiceError::Parse(ParseError::MalformedPubKey)),
            "prefix {prefix}"
        );
        assert!(!assert_same_as_reference(&inv));
    }
    // x = p and x = p + 1 (as 32 bytes), with either prefix.
    for (prefix, last) in [(2u8, 0x2fu8), (3, 0x2f), (2, 0x30), (3, 0xff)] {
        let mut k = p;
        k[0] = prefix;
        k[32] = last;
        let inv = with_payee_key(&k);
        assert_eq!(
            decode(&inv),
            Err(InvoiceError::Parse(ParseError::MalformedPubKey))
        );
        assert!(!assert_same_as_reference(&inv));
    }
    // Not 53 characters: skipped by both (BOLT 11: "MUST skip over n fields that do not have
    // data_length 53").
    for len in [32usize, 34] {
        let inv = with_payee_key(&vec![2u8; len]);
        assert!(decode(&inv).is_ok(), "{len} bytes");
        assert!(!assert_same_as_reference(&inv));
    }
    // A well-encoded x that is not on the curve (x = 5: 5^3 + 7 = 132 is not a square mod p):
    // the reference refuses it, the widget keeps it as bytes (the documented difference).
    let mut off_curve = [0u8; 33];
    off_curve[0] = 2;
    off_curve[32] = 5;
    let inv = with_payee_key(&off_curve);
    assert!(decode(&inv).is_ok());
    assert!(
        assert_same_as_reference(&inv),
        "the reference refuses an off-curve key"
    );
}
