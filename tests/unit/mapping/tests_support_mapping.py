"""A small custody mapping shared by the mapping tests."""

CUSTODY = """
code_lists:
  sex:
    canonical: Gender
    codes: {"M": "1", "F": "2", "U": "0"}
mappings:
  - name: custody
    direction: inbound
    provenance:
      organisation: {$const: "01"}
      system: {$const: custody}
      reference: ref
    outputs:
      - name: episode
        schema: custody-episode
        type: custody.episode.opened
        id: stable_id('custody-episode', ref)
        subject: ref
        partitionkey: ref
        fields:
          custody_record_number: ref
          custody_suite: suite
          arrived_at: datetime(arrived, '%d/%m/%Y %H:%M', 'Europe/London')
          relevant_time: datetime(arrived, '%d/%m/%Y %H:%M', 'Europe/London')
      - name: detainee
        schema: person
        type: person.created
        id: stable_id('person', ref)
        classification: "'OFFICIAL-SENSITIVE [PERSONAL]'"
        fields:
          name:
            given: split(forenames, ' ')[0]
            middle: split(forenames, ' ')[1:]
            family: surname
          date_of_birth: {value: "date(dob, '%d/%m/%Y')"}
          gender: code('sex', sex)
          aliases:
            $each: aliases
            $item: {family: family, given: given, type: {$const: alias}}
          identifiers:
            - {$when: pnc, type: {$const: PNC}, value: pnc}
      - name: in-custody
        schema: link
        type: link.created
        id: stable_id('link', ref, 'detainee')
        fields:
          role: {$const: detainee}
          from_ref: {type: {$const: person}, id: id_of('detainee')}
          to_ref: {type: {$const: custody-episode}, id: id_of('episode')}
      - name: co-accused
        schema: person
        type: person.updated
        for_each: co_accused
        id: stable_id('person', record().ref, 'co-accused', index())
        fields:
          provenance: {reference: record().ref}
          name: {family: surname}
"""
