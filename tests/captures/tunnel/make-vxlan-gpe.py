import struct, sys
def csum(b):
    if len(b)%2: b+=b'\0'
    s=sum(struct.unpack('!%dH'%(len(b)//2),b)); s=(s>>16)+(s&0xffff); s+=s>>16; return (~s)&0xffff
def ip4(src,dst,proto,payload,ident=1):
    h=struct.pack('!BBHHHBBH4s4s',0x45,0,20+len(payload),ident,0,64,proto,0,bytes(src),bytes(dst))
    h=h[:10]+struct.pack('!H',csum(h))+h[12:]
    return h+payload
def udp(sp,dp,payload):
    return struct.pack('!HHHH',sp,dp,8+len(payload),0)+payload
def dnsq(qid,name,qtype=1):
    q=b''.join(bytes([len(l)])+l.encode() for l in name.split('.') if l)+b'\0'
    return struct.pack('!HHHHHH',qid,0x0100,1,0,0,0)+q+struct.pack('!HH',qtype,1)
def dnsr(qid,name,addr):
    q=b''.join(bytes([len(l)])+l.encode() for l in name.split('.') if l)+b'\0'
    return struct.pack('!HHHHHH',qid,0x8180,1,1,0,0)+q+struct.pack('!HH',1,1)+struct.pack('!HHHIH',0xc00c,1,1,300,4)+bytes(addr)
def eth(payload, et=0x0800):
    return b'\x02\0\0\0\0\x02'+b'\x02\0\0\0\0\x01'+struct.pack('!H',et)+payload
def gpe(flags,nextp,vni,inner):
    return struct.pack('!BBBB',flags,0,0,nextp)+struct.pack('!I',vni<<8)+inner
O1=[10,40,9,1]; O2=[10,40,9,100]; C=[192,0,2,10]; S=[192,0,2,20]
pkts=[]
t=1700000000.0
def add(frame):
    global t
    pkts.append((t,frame)); t+=0.01
mode=sys.argv[1]
if mode=='flags':
    for fl in (0x0c,0x00,0x01,0x08,0x0d):
        add(eth(ip4(O1,O2,17,udp(40000,4790,gpe(fl,1,54321,ip4(C,S,17,udp(12345,53,dnsq(7,'a.example'))))))))
else:
    # query in GPE/IPv4, answer in GPE/Ethernet/IPv4; a query in GPE/IPv6-less: refused by ICMP
    add(eth(ip4(O1,O2,17,udp(40000,4790,gpe(0x0c,1,100,ip4(C,S,17,udp(12345,53,dnsq(0x1234,'www.example.com'))))))))
    add(eth(ip4(O2,O1,17,udp(4790,40000,gpe(0x0c,3,100,eth(ip4(S,C,17,udp(53,12345,dnsr(0x1234,'www.example.com',[198,51,100,7])))))))))
    for i in range(3):
        q=ip4(C,S,17,udp(23456+i,53,dnsq(0x2000+i,'down.example.com')),ident=10+i)
        add(eth(ip4(O1,O2,17,udp(40001,4790,gpe(0x0c,1,100,q)))))
        icmp=struct.pack('!BBHI',3,3,0,0)+q[:28+12]
        icmp=icmp[:2]+struct.pack('!H',csum(icmp))+icmp[4:]
        add(eth(ip4(O2,O1,17,udp(4790,40001,gpe(0x0c,1,100,ip4(S,C,1,icmp,ident=20+i))))))
out=open(sys.argv[2],'wb')
out.write(struct.pack('<IHHiIII',0xa1b2c3d4,2,4,0,0,65535,1))
for ts,f in pkts:
    out.write(struct.pack('<IIII',int(ts),int((ts%1)*1e6),len(f),len(f))+f)
