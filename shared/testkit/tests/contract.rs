//! The port contract suite, against the embedded adapters and against the AWS adapters on
//! moto_server. The AWS half fails (it is not skipped) when moto is unreachable.

mod embedded {
    atende_testkit::contract_suite!(atende_testkit::harness::embedded);
}

mod aws {
    atende_testkit::contract_suite!(atende_testkit::harness::aws);
}
