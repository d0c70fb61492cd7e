// ConvKit's blocked 1×1 convolution kernel alone (ck_blocked_conv) on THREADS threads of its worker pool: the best
// of 300 runs, for comparing one layer with ONNX Runtime's (Benchmarks/ort_single_conv.py). Build and run:
//   cd Sources/CConvKernels && clang -O3 -DNDEBUG -Iinclude -o /tmp/blocked_pointwise ../../Benchmarks/blocked_pointwise.c *.c -lm -lpthread
//   /tmp/blocked_pointwise CIN COUT SIZE THREADS [ROW_PARTS [BLOCK_CHUNK]]
#include "ck_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static ck_blocked_geom g; static float *x,*w,*o; static int K, H, rowParts, obChunk=4;
static void task(void*ctx,long t){ int obParts=(K/16+obChunk-1)/obChunk; int r=t%rowParts,u=t/rowParts; int ob0=u*obChunk,ob1=ob0+obChunk<K/16?ob0+obChunk:K/16;
  int rc=(H+rowParts-1)/rowParts; int oy0=r*rc,oy1=oy0+rc<H?oy0+rc:H; if(oy0<oy1) ck_blocked_conv(&g,x,w,NULL,NULL,0,1e30f,ob0,ob1,oy0,oy1,o);}
int main(int argc,char**argv){
  int C=atoi(argv[1]);K=atoi(argv[2]);H=atoi(argv[3]); int th=atoi(argv[4]); rowParts=argc>5?atoi(argv[5]):1; if(argc>6)obChunk=atoi(argv[6]);
  g=(ck_blocked_geom){.icb=16,.nib=C/16,.ics=1,.ps=16,.ibs=(ptrdiff_t)H*H*16,.ih=H,.iw=H,.kh=1,.kw=1,.sh=1,.sw=1,.ph=0,.pw=0,.dh=1,.dw=1,.oh=H,.ow=H,.nob=K/16};
  x=aligned_alloc(64,4L*C*H*H),w=aligned_alloc(64,4L*C*K),o=aligned_alloc(64,4L*K*H*H);
  for(long i=0;i<(long)C*H*H;i++)x[i]=rand()/(float)RAND_MAX;
  for(long i=0;i<(long)C*K;i++)w[i]=rand()/(float)RAND_MAX;
  int obParts=(K/16+obChunk-1)/obChunk;
  double best=1e9;
  for(int r=0;r<300;r++){double t=now();
    ck_parallel_run((long)obParts*rowParts, th, task, NULL);
    t=now()-t; if(t<best)best=t;}
  printf("C%d K%d H%d th%d rows%d obc%d: %.1f us  %.1f GF/s\n",C,K,H,th,rowParts,obChunk,best*1e6,2.0*C*K*H*H/best*1e-9);
}
