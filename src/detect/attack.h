/* attack.h: the MITRE ATT&CK techniques a finding can be a sign of, as one enum (findings and
 * rules carry the value; the id and name are text only where a report prints them). */
#ifndef NT_DETECT_ATTACK_H
#define NT_DETECT_ATTACK_H

enum nt_attack {
    ATTACK_NONE = 0,
    ATTACK_T1046,     /* Network Service Discovery */
    ATTACK_T1498,     /* Network Denial of Service */
    ATTACK_T1498_002, /* Network Denial of Service: Reflection Amplification */
    ATTACK_T1499_002, /* Endpoint Denial of Service: Service Exhaustion Flood */
    ATTACK_T1499_004, /* Endpoint Denial of Service: Application or System Exploitation */
    ATTACK_T1568_002, /* Dynamic Resolution: Domain Generation Algorithms */
    ATTACK_COUNT
};

/* "T1498.002"; NULL for ATTACK_NONE or a value outside the enum. */
const char *attack_technique_id(unsigned a);
/* "Network Denial of Service: Reflection Amplification"; NULL likewise. */
const char *attack_technique_name(unsigned a);

#endif
